import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RefundsTest, startRefunds } from './refunds.test-support.js';

/**
 * Refunds that need no learner: money that arrived for a closed order goes back by itself, and a
 * refund whose provider answer never arrived is asked about at the provider, settled, or alerted.
 */
let t: RefundsTest;
const warnings: { msg: string; refundId?: string }[] = [];
beforeAll(async () => {
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push(JSON.parse(chunk.toString('utf8')) as { msg: string; refundId?: string });
        done();
      },
    }),
  );
  t = await startRefunds({ COMMERCE_REFUND_STUCK_MINUTES: '60' }, { platform: { logger } });
}, 60_000);
afterAll(async () => {
  await t.stop();
});

interface RefundAnswer {
  id: string;
  status: string;
  amount: { amount: number; currency: string };
  requestedBy: { kind: string; id: string | null };
}

const db = () => t.kit.app.platform.database.db;

async function jobsOf(name: string, key: string, value: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pgboss.job where name = ${name} and data->>${key} = ${value}`.execute(
    db(),
  );
  return rows[0]?.n ?? 0;
}

async function refundsOfPayment(paymentId: string) {
  const { rows } = await sql<{ id: string; kind: string; status: string; amount: number }>`
    select id, kind, status, amount from commerce.refunds where payment_id = ${paymentId}`.execute(db());
  return rows;
}

async function stuckCount(): Promise<number> {
  const text = await t.kit.app.platform.metrics.registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('lectern_commerce_refunds_stuck_total{provider="sandbox"}'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('a payment that arrived for a closed order', () => {
  it('is refunded whole by the flagged-payment job through the refund path, once; the order and the ledger stay as they were', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(4200);
    const order = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
      as: buyer,
      body: { courseIds: [course.id] },
    });
    const payment = await t.kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/orders/${order.id}/payments`,
      {
        as: buyer,
        body: { provider: 'sandbox' },
      },
    );
    // the payer pays, but the notification is late: the learner cancels first
    t.hold.on = true;
    await t.kit.expectStatus(200, 'POST', `/api/v1/sandbox/pay/${payment.id}`, { body: { action: 'pay' } });
    t.hold.on = false;
    await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${order.id}/cancel`, { as: buyer, body: {} });
    const late = t.heldFor({ paymentId: payment.id });
    if (!late) throw new Error('no held notification');
    const res = await t.kit.request('POST', late.url, { headers: late.headers, body: late.body });
    expect(res.statusCode).toBe(200);

    // flagged, and the job that gives the money back was sent in the same transaction
    expect(await jobsOf('commerce.refund-flagged-payment', 'paymentId', payment.id)).toBe(1);
    await t.runJob('commerce.refund-flagged-payment', { paymentId: payment.id });
    await t.runJob('commerce.refund-flagged-payment', { paymentId: payment.id }); // a retry: no second refund
    const made = await refundsOfPayment(payment.id);
    expect(made).toEqual([
      { id: expect.any(String), kind: 'flagged-payment', status: 'approved', amount: 4200 },
    ]);
    const refundId = made[0]?.id ?? '';

    await t.sendRefund(refundId);
    await t.kit.settle();
    expect((await refundsOfPayment(payment.id)).map((r) => r.status)).toEqual(['succeeded']);
    const refund = await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refundId}`, {
      as: buyer,
    });
    expect(refund).toMatchObject({
      status: 'succeeded',
      amount: { amount: 4200, currency: 'CNY' },
      requestedBy: { kind: 'system', id: null },
    });
    // the provider gave it back
    const atSandbox = await t.providers.sandbox.query({ paymentId: payment.id });
    expect(atSandbox.refunds).toEqual([
      { refundId, amount: { amount: 4200, currency: 'CNY' }, status: 'succeeded' },
    ]);
    // nothing was sold, so nothing is reversed: the order stays cancelled, no refund journal, no refunded event
    const detail = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${order.id}`, {
      as: buyer,
    });
    expect(detail.status).toBe('cancelled');
    expect(await t.count('ledger_journals', sql`order_id = ${order.id}`)).toBe(0);
    const refunded = await t.kit.outbox('commerce', 'commerce.order.refunded');
    expect(refunded.map((e) => e.aggregateId)).not.toContain(order.id);

    // once settled, the job finds nothing more to do
    await t.runJob('commerce.refund-flagged-payment', { paymentId: payment.id });
    expect(await refundsOfPayment(payment.id)).toHaveLength(1);
  });

  it('sends no refund job for a payment that paid its order', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(3000);
    const orderId = await t.buy(buyer, [course.id]);
    const { rows } = await sql<{ id: string }>`
      select id from commerce.payments where order_id = ${orderId}`.execute(db());
    const paymentId = rows[0]?.id ?? '';
    expect(await jobsOf('commerce.refund-flagged-payment', 'paymentId', paymentId)).toBe(0);
    await t.runJob('commerce.refund-flagged-payment', { paymentId });
    expect(await refundsOfPayment(paymentId)).toEqual([]);
  });
});

describe('a refund whose provider answer was lost', () => {
  async function sentRefundWithLostAnswer(buyer: Awaited<ReturnType<RefundsTest['kit']['caller']>>) {
    const course = await t.course(5000);
    const orderId = await t.buy(buyer, [course.id]);
    // the provider refunds, but its notification never arrives
    const { refund: created } = await t.refundWithLostAnswer(buyer, orderId, 'not for me');
    expect(created.status).toBe('approved');
    t.hold.held.length = 0;
    const sent = await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${created.id}`, {
      as: buyer,
    });
    expect(sent.status).toBe('sent');
    return { orderId, refundId: created.id };
  }

  it('is settled by the send job’s retry once the notification is accepted, and by overlapping sends, once', async () => {
    const buyer = await t.kit.caller('learner');
    const { orderId, refundId } = await sentRefundWithLostAnswer(buyer);
    await t.sendRefund(refundId);
    await t.sendRefund(refundId); // a late duplicate of the job: nothing more
    // two sends of a new refund at once (a retry overlapping the first try): both end well, one refund
    const second = await t.kit.caller('learner');
    const course = await t.course(3000);
    const secondOrder = await t.buy(second, [course.id]);
    const created = await t.kit.expectStatus<RefundAnswer>(
      201,
      'POST',
      `/api/v1/orders/${secondOrder}/refunds`,
      {
        as: second,
        body: { reason: 'not for me' },
      },
    );
    await Promise.all([t.sendRefund(created.id), t.sendRefund(created.id)]);
    expect(
      (await t.kit.outbox('commerce', 'commerce.order.refunded')).filter(
        (e) => e.aggregateId === secondOrder,
      ),
    ).toHaveLength(1);
    const refund = await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refundId}`, {
      as: buyer,
    });
    expect(refund.status).toBe('succeeded');
    const order = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, {
      as: buyer,
    });
    expect(order.status).toBe('refunded');
    const events = (await t.kit.outbox('commerce', 'commerce.order.refunded')).filter(
      (e) => e.aggregateId === orderId,
    );
    expect(events).toHaveLength(1);
  });

  it('is settled by the learner’s query at the provider; someone else’s query is 404', async () => {
    const buyer = await t.kit.caller('learner');
    const { orderId, refundId } = await sentRefundWithLostAnswer(buyer);
    const stranger = await t.kit.caller('learner');
    const hidden = await t.kit.request('POST', `/api/v1/refunds/${refundId}/query`, { as: stranger });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.headers['content-type']).toContain('application/problem+json');
    const forged = await t.kit.request('POST', '/api/v1/refunds/not-a-uuid/query', { as: buyer });
    expect(forged.statusCode).toBe(400);

    const check = await t.kit.expectStatus(200, 'POST', `/api/v1/refunds/${refundId}/query`, { as: buyer });
    expect(check).toEqual({ refundId, status: 'succeeded', providerStatus: 'succeeded', outcome: 'applied' });
    const order = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, {
      as: buyer,
    });
    expect(order.status).toBe('refunded');
    // asked again: already settled, nothing changes
    const again = await t.kit.expectStatus(200, 'POST', `/api/v1/refunds/${refundId}/query`, { as: t.admin });
    expect(again).toMatchObject({ status: 'succeeded', outcome: 'duplicate' });
    const events = (await t.kit.outbox('commerce', 'commerce.order.refunded')).filter(
      (e) => e.aggregateId === orderId,
    );
    expect(events).toHaveLength(1);
  });

  it('is left alone until it is older than COMMERCE_REFUND_STUCK_MINUTES, then settled by the scheduled check', async () => {
    const buyer = await t.kit.caller('learner');
    const { orderId, refundId } = await sentRefundWithLostAnswer(buyer);
    await t.runJob('commerce.check-stuck-refunds', {});
    expect(
      (await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refundId}`, { as: buyer }))
        .status,
    ).toBe('sent');
    t.clock.advance(61 * 60);
    try {
      await t.runJob('commerce.check-stuck-refunds', {});
    } finally {
      t.clock.advance(-61 * 60);
    }
    expect(
      (await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refundId}`, { as: buyer }))
        .status,
    ).toBe('succeeded');
    const order = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, {
      as: buyer,
    });
    expect(order.status).toBe('refunded');
    expect(warnings.filter((w) => w.refundId === refundId)).toEqual([]);
  });

  it('is logged at warn with its id and counted when the provider cannot say', async () => {
    const buyer = await t.kit.caller('learner');
    const { refundId } = await sentRefundWithLostAnswer(buyer);
    // the provider no longer knows the refund (as Alipay, WeChat Pay and Stripe adapters cannot report one)
    await sql`
      update commerce.sandbox_payments set record = jsonb_set(record, '{refunds}', '[]'::jsonb)
      where record->'refunds' @> ${JSON.stringify([{ refundId }])}::jsonb`.execute(db());
    const before = await stuckCount();
    t.clock.advance(61 * 60);
    try {
      await t.runJob('commerce.check-stuck-refunds', {});
    } finally {
      t.clock.advance(-61 * 60);
    }
    expect(
      (await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refundId}`, { as: buyer }))
        .status,
    ).toBe('sent');
    expect(warnings.filter((w) => w.refundId === refundId).map((w) => w.msg)).toEqual([
      'refund still unsettled at the provider',
    ]);
    expect(await stuckCount()).toBe(before + 1);
  });
});
