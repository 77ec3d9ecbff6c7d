import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';
import type { SandboxNotification } from './providers/sandbox.provider.js';

let t: CommerceTest;
beforeAll(async () => {
  t = await startCommerce();
}, 60_000);
afterAll(async () => {
  await t.stop();
});

/** A pending order of a new course and a sandbox payment attempt for it. */
async function pendingPayment(as = t.learner) {
  const course = await t.course({ amount: 4200, currency: 'CNY' });
  const order = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
    as,
    body: { courseIds: [course] },
  });
  const payment = await t.kit.expectStatus<{ id: string; action: { kind: string; payUrl: string } }>(
    201,
    'POST',
    `/api/v1/orders/${order.id}/payments`,
    { as, body: { provider: 'sandbox' } },
  );
  return { course, orderId: order.id, paymentId: payment.id, action: payment.action };
}

const postNotification = (n: SandboxNotification, body = n.body, headers = n.headers) =>
  t.kit.request('POST', '/api/v1/payments/notify/sandbox', { headers, body });

const paidEvents = async (orderId: string) =>
  (await t.kit.outbox('commerce', 'commerce.order.paid')).filter((e) => e.aggregateId === orderId);

describe('sandbox checkout through HTTP', () => {
  it('order → payment → sandbox pays → notification → order paid and commerce.order.paid in the outbox', async () => {
    const { course, orderId, paymentId, action } = await pendingPayment();
    expect(action.kind).toBe('sandbox');
    expect(action.payUrl).toContain(`/api/v1/sandbox/pay/${paymentId}`);
    const page = await t.kit.request('GET', `/api/v1/sandbox/pay/${paymentId}`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);

    const paid = await t.kit.expectStatus<{ delivered: number[] }>(
      200,
      'POST',
      `/api/v1/sandbox/pay/${paymentId}`,
      {
        body: { action: 'pay', duplicates: 2 },
      },
    );
    expect(paid.delivered).toEqual([200, 200, 200]);
    const order = await t.kit.expectStatus<{
      status: string;
      transitions: { to: string; actorKind: string }[];
    }>(200, 'GET', `/api/v1/orders/${orderId}`, { as: t.learner });
    expect(order.status).toBe('paid');
    expect(order.transitions.map((x) => x.to)).toEqual(['pending', 'paid']);
    const events = await paidEvents(orderId);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({
      orderId,
      userId: t.learner.id,
      total: 4200,
      currency: 'CNY',
      provider: 'sandbox',
    });

    // the sale is booked once, in the paid transaction, and the books balance
    expect(await t.count('ledger_journals', sqlWhere(`order_id = '${orderId}' and kind = 'sale'`))).toBe(1);
    expect(
      await t.count(
        'ledger_postings',
        sqlWhere(
          `journal_id in (select id from commerce.ledger_journals where order_id = '${orderId}') and account = 'provider_clearing' and amount = 4200`,
        ),
      ),
    ).toBe(1);
    const balance = await t.kit.expectStatus<{
      totals: { currency: string; balance: number }[];
      unbalancedJournals: number;
    }>(200, 'GET', '/api/v1/admin/ledger/trial-balance', { as: t.admin });
    expect(balance.totals.find((x) => x.currency === 'CNY')?.balance).toBe(0);
    expect(balance.unbalancedJournals).toBe(0);

    // owned now: buying it again is refused
    const again = await t.kit.request('POST', '/api/v1/orders', {
      as: t.learner,
      body: { courseIds: [course] },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'commerce.already-owned' });
  });

  it('50 concurrent duplicate paid notifications → exactly one paid transition, one outbox event, one ledger entry', async () => {
    const { orderId, paymentId } = await pendingPayment();
    // one genuine notification, resent 25 times, and 25 re-signed copies with their own ids
    const first = await simulatePay(paymentId);
    const copies = Array.from({ length: 25 }, (_, i) => {
      const body = first.body.replace(/"id":"[^"]+"/, `"id":"sbn_copy_${i}"`);
      return resign(first, body);
    });
    const answers = await Promise.all([
      ...Array.from({ length: 25 }, () => postNotification(first)),
      ...copies.map((c) => postNotification(c)),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual(Array.from({ length: 50 }, () => 200));
    expect(await paidEvents(orderId)).toHaveLength(1);
    expect(
      await t.count('order_transitions', sqlWhere(`order_id = '${orderId}' and to_status = 'paid'`)),
    ).toBe(1);
    expect(await t.count('ledger_journals', sqlWhere(`order_id = '${orderId}'`))).toBe(1);
    expect(
      await t.count(
        'ledger_postings',
        sqlWhere(`journal_id in (select id from commerce.ledger_journals where order_id = '${orderId}')`),
      ),
    ).toBeGreaterThan(0);
    const unbalanced = await t.kit.expectStatus<{ unbalancedJournals: number }>(
      200,
      'GET',
      '/api/v1/admin/ledger/trial-balance',
      { as: t.admin },
    );
    expect(unbalanced.unbalancedJournals).toBe(0);
  });

  it('tampered, forged, truncated or malformed notifications are refused and change nothing; a wrong amount is flagged', async () => {
    const { orderId, paymentId } = await pendingPayment();
    const good = await simulatePay(paymentId);
    const before = await t.count('notifications');
    const variants: [string, string, Record<string, string>][] = [
      ['amount', good.body.replace('"amount":4200', '"amount":1'), good.headers],
      ['currency', good.body.replace('"currency":"CNY"', '"currency":"USD"'), good.headers],
      ['merchant', good.body.replace('"merchant":"lectern-sandbox"', '"merchant":"other"'), good.headers],
      ['payment id', good.body.replace(paymentId, '00000000-0000-4000-8000-000000000000'), good.headers],
      ['signature', good.body, { ...good.headers, 'lectern-sandbox-signature': 't=1,v1=' + 'A'.repeat(43) }],
      ['truncated', good.body.slice(0, 40), good.headers],
      ['malformed', 'not json', good.headers],
    ];
    for (const [what, body, headers] of variants) {
      const res = await postNotification(good, body, headers);
      expect(res.statusCode, what).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, what).toBeLessThan(500);
    }
    expect(await t.count('notifications')).toBe(before);
    expect(await paidEvents(orderId)).toHaveLength(0);

    // a genuinely signed notification with the wrong amount: recorded, flagged, order unchanged
    const wrong = resign(
      good,
      good.body.replace('"amount":4200', '"amount":1').replace(/"id":"[^"]+"/, '"id":"sbn_wrong"'),
    );
    expect((await postNotification(wrong)).statusCode).toBe(200);
    const order = await t.kit.expectStatus<{ status: string; payments: { flagged: boolean }[] }>(
      200,
      'GET',
      `/api/v1/orders/${orderId}`,
      { as: t.learner },
    );
    expect(order.status).toBe('pending');
    expect(order.payments[0]?.flagged).toBe(true);
    expect(await paidEvents(orderId)).toHaveLength(0);
  });

  it('an order expired by its job, or cancelled, takes a later payment as flagged, never paid', async () => {
    for (const close of ['expire', 'cancel'] as const) {
      const { orderId, paymentId } = await pendingPayment();
      const late = await simulatePay(paymentId);
      if (close === 'expire') {
        t.clock.advance(31 * 60);
        await t.runJob('commerce.expire-orders', {});
        t.clock.advance(-31 * 60);
      } else {
        await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${orderId}/cancel`, {
          as: t.learner,
          body: {},
        });
      }
      expect((await postNotification(late)).statusCode).toBe(200);
      const order = await t.kit.expectStatus<{
        status: string;
        payments: { flagged: boolean; flagReason: string }[];
      }>(200, 'GET', `/api/v1/orders/${orderId}`, { as: t.learner });
      expect(order.status, close).toBe(close === 'expire' ? 'expired' : 'cancelled');
      expect(order.payments[0]?.flagged, close).toBe(true);
      expect(await paidEvents(orderId)).toHaveLength(0);
      expect((await t.kit.outbox('commerce', 'commerce.order.closed')).map((e) => e.aggregateId)).toContain(
        orderId,
      );
    }
  });

  it('the sandbox payer answers 404 for a payment it has no record of, with or without an amount', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const body of [{ action: 'pay' }, { action: 'pay', amount: 1 }, { action: 'close' }]) {
      const res = await t.kit.request('POST', `/api/v1/sandbox/pay/${unknown}`, { body });
      expect(res.statusCode, JSON.stringify(body)).toBe(404);
    }
  });

  it('a transaction id another payment already holds is flagged on the notification, and neither pays nor touches the second payment', async () => {
    const first = await pendingPayment();
    const second = await pendingPayment();
    const paid = await simulatePay(first.paymentId);
    expect((await postNotification(paid)).statusCode).toBe(200);
    const heldTxn = (JSON.parse(paid.body) as { txnId: string }).txnId;
    const own = await simulatePay(second.paymentId);
    const reused = resign(own, own.body.replace(/"txnId":"[^"]+"/, `"txnId":"${heldTxn}"`));
    expect((await postNotification(reused)).statusCode).toBe(200);

    const order = await t.kit.expectStatus<{
      status: string;
      payments: { status: string; flagged: boolean }[];
    }>(200, 'GET', `/api/v1/orders/${second.orderId}`, { as: t.learner });
    expect(order.status).toBe('pending');
    expect(order.payments[0]).toMatchObject({ status: 'pending', flagged: false });
    expect(await paidEvents(second.orderId)).toHaveLength(0);
    expect(
      await t.count(
        'notifications',
        sqlWhere(
          `payment_id = '${second.paymentId}' and outcome = 'flagged' and flag_reason = 'transaction id belongs to another payment'`,
        ),
      ),
    ).toBe(1);
  });
});

// --- helpers: the sandbox's own signing, through the module's provider (same secret)

import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { SANDBOX_SECRET } from './commerce.test-support.js';

const sqlWhere = (text: string) => sql.raw(text);

function resign(n: SandboxNotification, body: string): SandboxNotification {
  const ts = /t=(\d+)/.exec(n.headers['lectern-sandbox-signature'] ?? '')?.[1] ?? '0';
  const v1 = createHmac('sha256', SANDBOX_SECRET).update(`${ts}.${body}`).digest('base64url');
  return { ...n, body, headers: { ...n.headers, 'lectern-sandbox-signature': `t=${ts},v1=${v1}` } };
}

/** The sandbox payer pays, and we capture the notification instead of letting it be delivered. */
async function simulatePay(paymentId: string): Promise<SandboxNotification> {
  const res = await t.kit.request('GET', `/api/v1/sandbox/pay/${paymentId}`);
  expect(res.statusCode).toBe(200);
  const body = JSON.stringify({
    id: `sbn_${paymentId}_${Date.now()}`,
    merchant: 'lectern-sandbox',
    type: 'payment.succeeded',
    paymentId,
    txnId: `sbt_${paymentId.slice(0, 8)}`,
    amount: 4200,
    currency: 'CNY',
    occurredAt: t.clock().toISOString(),
  });
  const ts = Math.floor(t.clock().getTime() / 1000);
  const v1 = createHmac('sha256', SANDBOX_SECRET).update(`${ts}.${body}`).digest('base64url');
  return {
    notifyUrl: '/api/v1/payments/notify/sandbox',
    body,
    headers: { 'content-type': 'application/json', 'lectern-sandbox-signature': `t=${ts},v1=${v1}` },
  };
}
