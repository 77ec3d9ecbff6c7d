import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../platform/crypto.js';
import { exportPartOf, identityOutbox, keysOf, readSections } from '../../../test/helpers/personal-data.js';
import type { Caller } from '../../../test/helpers/kit.js';
import { type CommerceTest, SANDBOX_SECRET, startCommerce } from './commerce.test-support.js';
import { commercePersonalData } from './personal-data.queries.js';
import type { CommerceTables } from './tables.js';

const KEY = generateKey();
const PAYER_A = 'buyer-2088102177841111';
const PAYER_B = 'buyer-2088102177842222';
const A_REFUND_REASON = 'The videos of lesson two never loaded for me';
const A_CANCEL_REASON = 'Bought the wrong course, sorry';
const B_REFUND_REASON = 'B-private: my employer will pay for it instead';
const APPROVAL_REASON = 'Checked the playback logs: approved';

let t: CommerceTest;
let a: Caller;
let b: Caller;
let c: Caller;

// what the scenario made, for the assertions
const made = {
  courseX1: '',
  courseX2: '',
  courseY: '',
  aPaidOrder: '',
  aPayment: '',
  aRefund: '',
  aCancelledOrder: '',
  bOrder: '',
  bPayment: '',
  bRefund: '',
  cOrder: '',
};

/** Order these courses and pay with the sandbox as `payer`: the order is paid when this returns. */
async function buy(as: Caller, courseIds: string[], payer: string, couponCode?: string) {
  const order = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
    as,
    body: { courseIds, ...(couponCode ? { couponCode } : {}) },
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
  await t.kit.expectStatus(200, 'POST', `/api/v1/sandbox/pay/${payment.id}`, {
    body: { action: 'pay', payer },
  });
  const paid = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${order.id}`, { as });
  expect(paid.status).toBe('paid');
  return { orderId: order.id, paymentId: payment.id };
}

const askRefund = (as: Caller, orderId: string, reason: string) =>
  t.kit.expectStatus<{ id: string; status: string }>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
    as,
    body: { reason },
  });

beforeAll(async () => {
  // jobs run by hand (the refund's send), so the refund's state is the test's to decide
  t = await startCommerce({
    env: { COMMERCE_DATA_KEYS: `k1:${KEY}` },
    app: { jobs: false },
    modules: [identityOutbox()],
  });
  [a, b, c] = await Promise.all([
    t.kit.caller('learner', 'instructor'),
    t.kit.caller('learner'),
    t.kit.caller('learner'),
  ]);
  await t.kit.expectStatus(201, 'POST', '/api/v1/admin/coupons', {
    as: t.admin,
    body: { code: 'SPRING10', kind: 'percentage', percentBps: 1000 },
  });
  made.courseX1 = await t.course({ amount: 9900, currency: 'CNY' });
  made.courseX2 = await t.course({ amount: 5000, currency: 'CNY' });
  made.courseY = await t.course({ amount: 20000, currency: 'CNY' }, a);

  // A buys X1 with the coupon, asks for the money back, an admin approves, the refund succeeds
  const aPaid = await buy(a, [made.courseX1], PAYER_A, 'SPRING10');
  made.aPaidOrder = aPaid.orderId;
  made.aPayment = aPaid.paymentId;
  const refund = await askRefund(a, made.aPaidOrder, A_REFUND_REASON);
  made.aRefund = refund.id;
  await t.kit.expectStatus(200, 'POST', `/api/v1/admin/refunds/${refund.id}/approve`, {
    as: t.admin,
    body: { reason: APPROVAL_REASON },
  });
  await t.runJob('commerce.send-refund', { refundId: refund.id });

  // A orders X2 and cancels it
  const aCancelled = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
    as: a,
    body: { courseIds: [made.courseX2] },
  });
  made.aCancelledOrder = aCancelled.id;
  await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${aCancelled.id}/cancel`, {
    as: a,
    body: { reason: A_CANCEL_REASON },
  });

  // B: the same kinds of rows, none of which may reach A's part
  const bPaid = await buy(b, [made.courseX2], PAYER_B, 'SPRING10');
  made.bOrder = bPaid.orderId;
  made.bPayment = bPaid.paymentId;
  made.bRefund = (await askRefund(b, made.bOrder, B_REFUND_REASON)).id;

  // C buys A's course: A earns, as an instructor
  made.cOrder = (await buy(c, [made.courseY], 'buyer-2088102177843333')).orderId;
}, 120_000);

afterAll(async () => {
  await t.stop();
});

/** Every key of a JSON value, at any depth. */
const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const cny = (amount: number) => ({ amount, currency: 'CNY' });

describe("commerce's part of a personal-data export", () => {
  it("holds the user's orders, payments, refunds, coupon uses and earnings, and nothing of anyone else", async () => {
    const part = await exportPartOf(t.kit, a.id, 'commerce');
    expect(part.module).toBe('commerce');
    // the module's clock, which the test holds still
    expect(part.generatedAt).toBe(t.clock().toISOString());
    const data = part.data as Record<string, unknown[]>;
    expect(Object.keys(data).sort()).toEqual(
      [
        'couponRedemptions',
        'earnings',
        'earningsByCurrency',
        'orders',
        'payments',
        'payouts',
        'refunds',
      ].sort(),
    );

    expect(data.orders).toHaveLength(2);
    const orders = new Map((data.orders as { id: string }[]).map((o) => [o.id, o]));
    expect(orders.get(made.aPaidOrder)).toEqual({
      id: made.aPaidOrder,
      status: 'refunded',
      subtotal: cny(9900),
      discount: cny(990),
      total: cny(8910),
      couponCode: 'SPRING10',
      provider: 'sandbox',
      lines: [{ courseId: made.courseX1, title: 'A course', listPrice: cny(9900), amount: cny(8910) }],
      transitions: [
        { from: null, to: 'pending', actorKind: 'user', reason: 'created', at: iso },
        {
          from: 'pending',
          to: 'paid',
          actorKind: 'provider',
          reason: `payment ${made.aPayment} succeeded`,
          at: iso,
        },
        {
          from: 'paid',
          to: 'refunded',
          actorKind: 'provider',
          reason: expect.stringContaining(made.aRefund),
          at: iso,
        },
      ],
      createdAt: iso,
      expiresAt: iso,
      paidAt: iso,
      updatedAt: iso,
    });
    expect(orders.get(made.aCancelledOrder)).toMatchObject({
      status: 'cancelled',
      total: cny(5000),
      couponCode: null,
      paidAt: null,
      lines: [{ courseId: made.courseX2, amount: cny(5000) }],
      transitions: [
        { from: null, to: 'pending' },
        { from: 'pending', to: 'cancelled', actorKind: 'user', reason: A_CANCEL_REASON },
      ],
    });

    expect(data.payments).toEqual([
      {
        id: made.aPayment,
        orderId: made.aPaidOrder,
        provider: 'sandbox',
        amount: cny(8910),
        status: 'succeeded',
        // the payer, masked: the last four characters only
        payer: '****1111',
        flagged: false,
        flagReason: null,
        createdAt: iso,
        succeededAt: iso,
        updatedAt: iso,
      },
    ]);

    expect(data.refunds).toEqual([
      {
        id: made.aRefund,
        kind: 'order',
        orderId: made.aPaidOrder,
        paymentId: made.aPayment,
        provider: 'sandbox',
        amount: cny(8910),
        status: 'succeeded',
        reason: A_REFUND_REASON,
        requestedByKind: 'user',
        consumedShareBps: null,
        reviewReason: expect.any(String),
        decidedByKind: 'admin',
        decisionReason: APPROVAL_REASON,
        failureReason: null,
        lines: [{ courseId: made.courseX1, amount: cny(8910) }],
        transitions: [
          { from: null, to: 'requested', actorKind: 'user', reason: A_REFUND_REASON, at: iso },
          { from: 'requested', to: 'approved', actorKind: 'admin', reason: APPROVAL_REASON, at: iso },
          { from: 'approved', to: 'sent', actorKind: 'system', reason: expect.any(String), at: iso },
          { from: 'sent', to: 'succeeded', actorKind: 'provider', reason: expect.any(String), at: iso },
        ],
        createdAt: iso,
        decidedAt: iso,
        sentAt: iso,
        settledAt: iso,
        updatedAt: iso,
      },
    ]);

    expect(data.couponRedemptions).toEqual([
      {
        id: expect.any(String),
        couponCode: 'SPRING10',
        orderId: made.aPaidOrder,
        discount: cny(990),
        // a refund keeps the coupon used
        status: 'active',
        redeemedAt: iso,
        releasedAt: null,
      },
    ]);

    // A's own course sold to C: 20000 less the 30 % platform fee
    expect(data.earnings).toEqual([
      {
        id: expect.any(String),
        kind: 'sale',
        orderId: made.cOrder,
        courseId: made.courseY,
        amount: cny(14000),
        occurredAt: iso,
      },
    ]);
    expect(data.earningsByCurrency).toEqual([
      { currency: 'CNY', sales: cny(14000), refunds: cny(0), net: cny(14000) },
    ]);

    const text = JSON.stringify(part);
    // nothing of another person: B's and C's ids, B's rows, B's text and payer
    for (const other of [b.id, c.id, made.bOrder, made.bPayment, made.bRefund, B_REFUND_REASON, PAYER_B]) {
      expect(text).not.toContain(other);
    }
    // no secret: no payer in full, no sealed value, no key, no client secret or provider answer
    for (const secret of [PAYER_A, KEY, SANDBOX_SECRET, 's1.k1.']) expect(text).not.toContain(secret);
    const keys = keysOf(part.data);
    for (const key of keys) {
      expect(key).not.toMatch(
        /secret|seal|token|hash|password|credential|signature|^action$|^fields$|actorId|instructorIds|payerSealed/i,
      );
    }
  });

  it('reads every section a page at a time without losing or repeating a row across pages', async () => {
    const db = t.kit.app.platform.database.db.withTables<CommerceTables>();
    // one more sale of A's course, so the earnings run over a page boundary as well
    await buy(b, [made.courseY], 'buyer-2088102177844444');
    const part = await exportPartOf(t.kit, a.id, 'commerce');
    const sections = commercePersonalData(db, a.id, { maskPayer: () => '****1111', pageSize: 1 });
    const read = (await readSections(sections)) as Record<string, unknown[]>;
    expect(read).toEqual(part.data);
    // the orders were all made at one clock reading: the id breaks the tie
    expect(read.orders).toHaveLength(2);
    expect(read.earnings).toHaveLength(2);
  });

  it("keeps an instructor's paid payout out of their earnings and lists it once among their payouts", async () => {
    const instructor = await t.kit.caller('instructor');
    const courseId = await t.course({ amount: 10_000, currency: 'CNY' }, instructor);
    const { orderId } = await buy(await t.kit.caller('learner'), [courseId], 'buyer-2088102177845555');
    // 2000 of the 10000 back: the instructor's 70 % share of it, 1400, is reversed
    const refund = await t.kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/admin/orders/${orderId}/refunds`,
      { as: t.admin, body: { amount: 2000, reason: 'goodwill' } },
    );
    await t.runJob('commerce.send-refund', { refundId: refund.id });
    // past the refund window (the default 7 days), the share is available for a payout
    t.clock.advance(8 * 86_400);
    const payout = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/payouts', {
      as: instructor,
      body: { amount: 5000, currency: 'CNY' },
    });
    await t.kit.expectStatus(200, 'POST', `/api/v1/admin/payouts/${payout.id}/paid`, {
      as: t.admin,
      body: { reference: 'ICBC-2026-0042' },
    });

    const part = await exportPartOf(t.kit, instructor.id, 'commerce');
    const data = part.data as Record<string, { kind?: string; amount?: { amount: number } }[]>;
    // sales' shares and refunds only: the payout's debit of the payable is not an earning
    expect(data.earnings).toEqual([
      { id: expect.any(String), kind: 'sale', orderId, courseId, amount: cny(7000), occurredAt: iso },
      { id: expect.any(String), kind: 'refund', orderId, courseId, amount: cny(-1400), occurredAt: iso },
    ]);
    expect(data.earningsByCurrency).toEqual([
      { currency: 'CNY', sales: cny(7000), refunds: cny(1400), net: cny(5600) },
    ]);
    // the section adds up to its totals
    const listed = (data.earnings ?? []).reduce((sum, e) => sum + (e.amount?.amount ?? 0), 0);
    expect(listed).toBe(5600);
    expect(data.payouts).toEqual([
      {
        id: payout.id,
        amount: cny(5000),
        status: 'paid',
        reference: 'ICBC-2026-0042',
        rejectionReason: null,
        transitions: [
          { from: null, to: 'requested', actorKind: 'user', reason: expect.any(String), at: iso },
          { from: 'requested', to: 'paid', actorKind: 'admin', reason: expect.any(String), at: iso },
        ],
        requestedAt: iso,
        decidedAt: t.clock().toISOString(),
        updatedAt: iso,
      },
    ]);
    // the admin who paid is another person
    expect(JSON.stringify(part)).not.toContain(t.admin.id);
  });

  it('gives a user commerce holds nothing about a part with every section empty', async () => {
    const nobody = await t.kit.caller('learner');
    const part = await exportPartOf(t.kit, nobody.id, 'commerce');
    expect(part).toEqual({
      module: 'commerce',
      generatedAt: t.clock().toISOString(),
      data: {
        orders: [],
        payments: [],
        refunds: [],
        couponRedemptions: [],
        earnings: [],
        earningsByCurrency: [],
        payouts: [],
      },
    });
  });
});
