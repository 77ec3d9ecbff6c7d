import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';

let t: CommerceTest;
beforeAll(async () => {
  t = await startCommerce();
});
afterAll(async () => {
  await t.stop();
});

interface OrderWire {
  id: string;
  subtotal: { amount: number };
  discount: { amount: number };
  total: { amount: number };
  couponCode: string | null;
  lines: { amount: { amount: number } }[];
}

describe('coupons at checkout', () => {
  it('gives a one-use coupon to exactly one of 20 concurrent order creations, and takes it back on cancel', async () => {
    const a = await t.course({ amount: 9900, currency: 'CNY' });
    const b = await t.course({ amount: 3301, currency: 'CNY' });
    const coupon = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/admin/coupons', {
      as: t.admin,
      body: { code: 'ONLY-ONE', kind: 'fixed', amountOff: { amount: 1000, currency: 'CNY' }, totalLimit: 1 },
    });
    const learners = await Promise.all(Array.from({ length: 20 }, () => t.kit.caller('learner')));
    const answers = await Promise.all(
      learners.map((as) =>
        t.kit.request('POST', '/api/v1/orders', { as, body: { courseIds: [a, b], couponCode: 'only-one' } }),
      ),
    );
    const won = answers.filter((r) => r.statusCode === 201);
    expect(won).toHaveLength(1);
    for (const r of answers.filter((x) => x.statusCode !== 201)) {
      expect(r.statusCode, r.body).toBe(409);
      expect(r.json()).toMatchObject({ code: 'commerce.coupon-exhausted' });
    }
    const order = won[0]?.json<OrderWire>();
    if (!order) throw new Error('no order');
    expect(order).toMatchObject({
      subtotal: { amount: 13_201 },
      discount: { amount: 1000 },
      total: { amount: 12_201 },
      couponCode: 'ONLY-ONE',
    });
    expect(order.lines.reduce((s, l) => s + l.amount.amount, 0)).toBe(12_201);
    expect(await t.count('orders')).toBe(1);

    const owner = learners[answers.indexOf(won[0] as (typeof answers)[number])];
    await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${order.id}/cancel`, { as: owner, body: {} });
    await t.kit.settle();
    const after = await t.kit.expectStatus<{ redeemed: number }>(
      200,
      'GET',
      `/api/v1/admin/coupons/${coupon.id}`,
      {
        as: t.admin,
      },
    );
    expect(after.redeemed).toBe(0);
  });

  it('refuses an order whose coupon does not apply, creating nothing', async () => {
    const course = await t.course({ amount: 500, currency: 'CNY' });
    await t.kit.expectStatus(201, 'POST', '/api/v1/admin/coupons', {
      as: t.admin,
      body: {
        code: 'BIG-SPEND',
        kind: 'percentage',
        percentBps: 1000,
        minSpend: { amount: 10_000, currency: 'CNY' },
      },
    });
    const before = await t.count('orders');
    const res = await t.kit.request('POST', '/api/v1/orders', {
      as: t.learner,
      body: { courseIds: [course], couponCode: 'BIG-SPEND' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'commerce.coupon-min-spend-not-met' });
    expect(await t.count('orders')).toBe(before);
  });
});
