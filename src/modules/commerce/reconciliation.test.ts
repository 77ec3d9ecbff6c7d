import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../platform/money.js';
import { type RefundsTest, startRefunds } from './refunds.test-support.js';
import { tableSandboxStore } from './sandbox.queries.js';
import type { CommerceTables } from './tables.js';

let t: RefundsTest;
beforeAll(async () => {
  t = await startRefunds();
}, 120_000);
afterAll(async () => {
  await t.stop();
});

interface Report {
  checkedOrders: number;
  checkedPayments: number;
  disagreements: { orderId: string; paymentId: string; kind: string; detail: string }[];
  nextCursor: string | null;
}

const store = () => tableSandboxStore(t.kit.app.platform.database.db.withTables<CommerceTables>());

const hour = 3600 * 1000;
const report = (limit = 200) => {
  const now = t.clock().getTime();
  const from = new Date(now - hour).toISOString();
  const to = new Date(now + hour).toISOString();
  return t.kit.expectStatus<Report>(
    200,
    'GET',
    `/api/v1/admin/commerce/reconciliation?from=${from}&to=${to}&limit=${limit}`,
    { as: t.admin },
  );
};

/** A pending order with a sandbox payment attempt, not paid. */
async function pendingPayment(as = t.learner) {
  const course = await t.course(4200);
  const order = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
    as,
    body: { courseIds: [course.id] },
  });
  const payment = await t.kit.expectStatus<{ id: string }>(
    201,
    'POST',
    `/api/v1/orders/${order.id}/payments`,
    {
      as,
      body: { provider: 'sandbox' },
    },
  );
  return { orderId: order.id, paymentId: payment.id };
}

async function paymentOf(orderId: string): Promise<string> {
  const o = await t.kit.expectStatus<{ payments: { id: string }[] }>(
    200,
    'GET',
    `/api/v1/admin/orders/${orderId}`,
    {
      as: t.admin,
    },
  );
  const id = o.payments[0]?.id;
  if (!id) throw new Error('no payment');
  return id;
}

describe('reconciliation against the sandbox provider', () => {
  it('lists each kind of disagreement and leaves clean orders out', async () => {
    const buyer = await t.kit.caller('learner');
    // clean: paid here and there; and a pending one the provider also has pending
    const clean = await t.buy(buyer, [(await t.course(3000)).id]);
    const stillPending = await pendingPayment(buyer);

    // paid at the sandbox, but its notification never arrived
    const lost = await pendingPayment(await t.kit.caller('learner'));
    await t.providers.sandbox.simulate(lost.paymentId, 'pay');

    // paid here, but the provider's record says closed
    const ghost = await t.buy(await t.kit.caller('learner'), [(await t.course(3100)).id]);
    const ghostPayment = await paymentOf(ghost);
    await store().update(ghostPayment, (record) => {
      if (!record) throw new Error('no sandbox record');
      record.status = 'closed';
    });

    // paid at both, for another amount at the provider
    const skewed = await t.buy(await t.kit.caller('learner'), [(await t.course(3200)).id]);
    const skewedPayment = await paymentOf(skewed);
    await store().update(skewedPayment, (record) => {
      if (!record) throw new Error('no sandbox record');
      record.amount = money(3199, 'CNY');
    });

    // a refund the provider finished while our side never heard (notification held)
    const refunder = await t.kit.caller('learner');
    const refunded = await t.buy(refunder, [(await t.course(3300)).id]);
    await t.refundWithLostAnswer(refunder, refunded, 'reconcile me');

    const first = await report();
    expect(first.nextCursor).toBeNull();
    expect(first.checkedOrders).toBeGreaterThanOrEqual(6);
    const kinds = (orderId: string) =>
      first.disagreements.filter((d) => d.orderId === orderId).map((d) => d.kind);
    expect(kinds(clean)).toEqual([]);
    expect(kinds(stillPending.orderId)).toEqual([]);
    expect(kinds(lost.orderId)).toEqual(['paid-at-provider-not-locally']);
    expect(kinds(ghost)).toEqual(['paid-locally-not-at-provider']);
    expect(kinds(skewed)).toEqual(['amount-differs']);
    expect(kinds(refunded)).toEqual(['refund-differs']);
    expect(first.disagreements.find((d) => d.orderId === refunded)?.detail).toContain(
      'is sent (3300 CNY) locally and succeeded (3300 CNY) at the provider',
    );

    // the lost payment settled through the admin's payment query: it is no longer listed
    await t.kit.expectStatus(200, 'POST', `/api/v1/admin/payments/${lost.paymentId}/query`, { as: t.admin });
    const second = await report();
    expect(second.disagreements.filter((d) => d.orderId === lost.orderId)).toEqual([]);
  });

  it('pages through a range with a cursor', async () => {
    await pendingPayment(await t.kit.caller('learner'));
    const page = await report(1);
    expect(page.checkedOrders).toBe(1);
    expect(page.nextCursor).not.toBeNull();
  });

  it('bad ranges are 400 problem+json naming the field; learners are refused', async () => {
    const now = t.clock().getTime();
    const at = (ms: number) => new Date(now + ms).toISOString();
    const cases: [string, string][] = [
      [`from=${at(hour)}&to=${at(0)}`, '/querystring/from'],
      [`from=${at(0)}&to=${at(0)}`, '/querystring/from'],
      [`from=${at(0)}&to=${at(32 * 24 * hour)}`, '/querystring/to'],
    ];
    for (const [query, field] of cases) {
      const res = await t.kit.request('GET', `/api/v1/admin/commerce/reconciliation?${query}`, {
        as: t.admin,
      });
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({
        code: 'commerce.reconciliation-range-invalid',
        fields: [{ field }],
      });
    }
    for (const query of ['', `from=yesterday&to=${at(0)}`, `from=${at(0)}`]) {
      const res = await t.kit.request('GET', `/api/v1/admin/commerce/reconciliation?${query}`, {
        as: t.admin,
      });
      expect(res.statusCode, query).toBe(400);
    }
    const learner = await t.kit.request(
      'GET',
      `/api/v1/admin/commerce/reconciliation?from=${at(-hour)}&to=${at(hour)}`,
      { as: t.learner },
    );
    expect(learner.statusCode).toBe(403);
  });
});

describe('the sandbox’s records in commerce’s table', () => {
  it('keep every one of ten refunds of one payment asked for at once, and refuse the eleventh above what is left', async () => {
    const orderId = await t.buy(await t.kit.caller('learner'), [(await t.course(1000)).id]);
    const paymentId = await paymentOf(orderId);
    const total = money(1000, 'CNY');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        t.providers.sandbox.refund({ paymentId, refundId: `conc_${i}`, amount: money(100, 'CNY'), total }),
      ),
    );
    expect(new Set(results.map((r) => r.providerRefundId)).size).toBe(10);
    const record = await store().get(paymentId);
    expect(record?.refunds.map((r) => r.refundId).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `conc_${i}`).sort(),
    );
    await expect(
      t.providers.sandbox.refund({ paymentId, refundId: 'conc_10', amount: money(1, 'CNY'), total }),
    ).rejects.toMatchObject({ providerCode: 'REFUND_AMOUNT_EXCEEDED' });
  });
});
