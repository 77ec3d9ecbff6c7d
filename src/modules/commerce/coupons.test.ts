import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueue } from '../../platform/messaging/outbox.js';
import { money } from '../../platform/money.js';
import { OrderClosedEvent } from './commerce.events.js';
import { type CommerceTest, startCommerce } from './coupons.test-support.js';
import { type CartLine, priceWithCoupon } from './coupons.service.js';
import type { CouponTable } from './tables.js';

let t: CommerceTest;
beforeAll(async () => {
  t = await startCommerce();
});
afterAll(async () => {
  await t.stop();
});

const createCoupon = (body: Record<string, unknown>) =>
  t.kit.expectStatus<{ id: string; code: string; redeemed: number }>(201, 'POST', '/api/v1/admin/coupons', {
    as: t.admin,
    body: { code: `C${randomUUID().slice(0, 8)}`, ...body },
  });

const preview = (code: string, courseIds: string[], as = t.learner) =>
  t.kit.request('POST', '/api/v1/coupons/preview', { as, body: { code, courseIds } });

const redeem = (code: string, userId: string, lines: CartLine[]) =>
  t.db
    .transaction()
    .execute((trx) => t.coupons.redeemInTransaction(trx, { code, userId, orderId: randomUUID(), lines }));

const lineOf = async (courseId: string): Promise<CartLine> => {
  const [line] = await t.coupons.cartOf([courseId]);
  if (!line) throw new Error('no line');
  return line;
};

describe('admin coupons', () => {
  it('creates, lists, reads, changes and deletes a coupon', async () => {
    const created = await createCoupon({
      code: 'spring-15',
      kind: 'percentage',
      percentBps: 1500,
      totalLimit: 10,
    });
    expect(created).toMatchObject({ code: 'SPRING-15', redeemed: 0 });
    const page = await t.kit.expectStatus<{ data: { id: string }[] }>(200, 'GET', '/api/v1/admin/coupons', {
      as: t.admin,
    });
    expect(page.data.map((c) => c.id)).toContain(created.id);
    const changed = await t.kit.expectStatus(200, 'PATCH', `/api/v1/admin/coupons/${created.id}`, {
      as: t.admin,
      body: { active: false, perUserLimit: 1 },
    });
    expect(changed).toMatchObject({ active: false, perUserLimit: 1, totalLimit: 10 });
    await t.kit.expectStatus(204, 'DELETE', `/api/v1/admin/coupons/${created.id}`, { as: t.admin });
    await t.kit.expectStatus(404, 'GET', `/api/v1/admin/coupons/${created.id}`, { as: t.admin });
  });

  it('refuses inconsistent coupons, taken codes and callers who are not admins', async () => {
    const bad = [
      { kind: 'percentage' },
      { kind: 'percentage', percentBps: 1000, amountOff: { amount: 100, currency: 'CNY' } },
      { kind: 'fixed', amountOff: { amount: 0, currency: 'CNY' } },
      { kind: 'fixed', amountOff: { amount: 100, currency: 'ZZZ' } },
      {
        kind: 'fixed',
        amountOff: { amount: 100, currency: 'CNY' },
        minSpend: { amount: 100, currency: 'USD' },
      },
      { kind: 'percentage', percentBps: 10_001 },
      { kind: 'percentage', percentBps: 1000, scope: 'all', scopeIds: [randomUUID()] },
      { kind: 'percentage', percentBps: 1000, scope: 'courses' },
      {
        kind: 'percentage',
        percentBps: 1000,
        startsAt: '2026-05-01T00:00:00Z',
        endsAt: '2026-04-01T00:00:00Z',
      },
    ];
    for (const body of bad) {
      const res = await t.kit.request('POST', '/api/v1/admin/coupons', {
        as: t.admin,
        body: { code: 'BAD-ONE', ...body },
      });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    await createCoupon({ code: 'TAKEN', kind: 'percentage', percentBps: 500 });
    const taken = await t.kit.request('POST', '/api/v1/admin/coupons', {
      as: t.admin,
      body: { code: 'taken', kind: 'percentage', percentBps: 500 },
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'commerce.coupon-code-taken' });
    const learner = await t.kit.request('POST', '/api/v1/admin/coupons', {
      as: t.learner,
      body: { code: 'MINE', kind: 'percentage', percentBps: 500 },
    });
    expect(learner.statusCode).toBe(403);
    const list = await t.kit.request('GET', '/api/v1/admin/coupons', { as: t.learner });
    expect(list.statusCode).toBe(403);
  });

  it('keeps a used coupon (deactivate instead) and never lowers the limit below its uses', async () => {
    const course = await t.publishedCourse();
    const coupon = await createCoupon({ kind: 'percentage', percentBps: 1000, totalLimit: 5 });
    await redeem(coupon.code, t.learner.id, [await lineOf(course)]);
    await redeem(coupon.code, randomUUID(), [await lineOf(course)]);
    const del = await t.kit.request('DELETE', `/api/v1/admin/coupons/${coupon.id}`, { as: t.admin });
    expect(del.statusCode).toBe(409);
    expect(del.json()).toMatchObject({ code: 'commerce.coupon-in-use' });
    const lower = await t.kit.request('PATCH', `/api/v1/admin/coupons/${coupon.id}`, {
      as: t.admin,
      body: { totalLimit: 1 },
    });
    expect(lower.statusCode).toBe(400);
  });
});

describe('preview', () => {
  it('splits a percentage discount over the lines in scope, summing exactly', async () => {
    const a = await t.publishedCourse({ price: { amount: 9900, currency: 'CNY' } });
    const b = await t.publishedCourse({ price: { amount: 3333, currency: 'CNY' } });
    const coupon = await createCoupon({ kind: 'percentage', percentBps: 1750 });
    const res = await preview(coupon.code.toLowerCase(), [a, b]);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{
      lines: {
        courseId: string;
        price: { amount: number };
        discount: { amount: number };
        amount: { amount: number };
      }[];
      subtotal: { amount: number };
      discount: { amount: number };
      total: { amount: number };
    }>();
    // 17.5 % of 13233, rounded down
    expect(body.discount.amount).toBe(2315);
    expect(body.subtotal.amount).toBe(13233);
    expect(body.total.amount).toBe(13233 - 2315);
    expect(body.lines.reduce((s, l) => s + l.discount.amount, 0)).toBe(2315);
    for (const line of body.lines) expect(line.amount.amount).toBe(line.price.amount - line.discount.amount);
  });

  it('takes a fixed amount only from the courses or categories in scope, never more than they cost', async () => {
    const design = await t.category(`design-${randomUUID().slice(0, 6)}`);
    const inCategory = await t.publishedCourse({
      price: { amount: 500, currency: 'CNY' },
      categoryId: design,
    });
    const other = await t.publishedCourse({ price: { amount: 2000, currency: 'CNY' } });
    const coupon = await createCoupon({
      kind: 'fixed',
      amountOff: { amount: 800, currency: 'CNY' },
      scope: 'categories',
      scopeIds: [design],
    });
    const res = await preview(coupon.code, [other, inCategory]);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{
      lines: { courseId: string; discount: { amount: number } }[];
      total: { amount: number };
    }>();
    expect(body.lines.find((l) => l.courseId === other)?.discount.amount).toBe(0);
    expect(body.lines.find((l) => l.courseId === inCategory)?.discount.amount).toBe(500);
    expect(body.total.amount).toBe(2000);

    const byCourse = await createCoupon({
      kind: 'percentage',
      percentBps: 5000,
      scope: 'courses',
      scopeIds: [other],
    });
    const mismatch = await preview(byCourse.code, [inCategory]);
    expect(mismatch.statusCode).toBe(409);
    expect(mismatch.json()).toMatchObject({ code: 'commerce.coupon-scope-mismatch' });
    const byCategory = await preview(coupon.code, [other]);
    expect(byCategory.json()).toMatchObject({ code: 'commerce.coupon-scope-mismatch' });
  });

  it('refuses a coupon below its min spend, in another currency, out of its window, inactive or unknown', async () => {
    const cny = await t.publishedCourse({ price: { amount: 1000, currency: 'CNY' } });
    const usd = await t.publishedCourse({ price: { amount: 1000, currency: 'USD' } });
    const minSpend = await createCoupon({
      kind: 'percentage',
      percentBps: 1000,
      minSpend: { amount: 5000, currency: 'CNY' },
    });
    expect((await preview(minSpend.code, [cny])).json()).toMatchObject({
      code: 'commerce.coupon-min-spend-not-met',
    });
    const fixed = await createCoupon({ kind: 'fixed', amountOff: { amount: 100, currency: 'CNY' } });
    const currency = await preview(fixed.code, [usd]);
    expect(currency.statusCode).toBe(409);
    expect(currency.json()).toMatchObject({ code: 'commerce.coupon-currency-mismatch' });

    const now = t.clock();
    const windowed = await createCoupon({
      kind: 'percentage',
      percentBps: 1000,
      startsAt: new Date(now.getTime() + 3600_000).toISOString(),
      endsAt: new Date(now.getTime() + 7200_000).toISOString(),
    });
    expect((await preview(windowed.code, [cny])).json()).toMatchObject({
      code: 'commerce.coupon-not-started',
    });
    t.clock.advance(5400);
    expect((await preview(windowed.code, [cny])).statusCode).toBe(200);
    t.clock.advance(3600);
    const expired = await preview(windowed.code, [cny]);
    expect(expired.statusCode).toBe(409);
    expect(expired.json()).toMatchObject({ code: 'commerce.coupon-expired' });

    const off = await createCoupon({ kind: 'percentage', percentBps: 1000, active: false });
    expect((await preview(off.code, [cny])).json()).toMatchObject({ code: 'commerce.coupon-inactive' });
    const unknown = await preview('NO-SUCH-CODE', [cny]);
    expect(unknown.statusCode).toBe(404);
    const mixed = await preview(fixed.code, [cny, usd]);
    expect(mixed.statusCode).toBe(400);
    const missing = await preview(fixed.code, [randomUUID()]);
    expect(missing.statusCode).toBe(404);
  });
});

describe('redemption', () => {
  it('gives a one-use coupon to exactly one of 20 concurrent checkouts', async () => {
    const course = await t.publishedCourse();
    const coupon = await createCoupon({ kind: 'percentage', percentBps: 2000, totalLimit: 1 });
    const line = await lineOf(course);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () => redeem(coupon.code, randomUUID(), [line])),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'commerce.coupon-exhausted' });
    }
    const rows = await t.db
      .selectFrom('commerce.coupon_redemptions')
      .selectAll()
      .where('coupon_id', '=', coupon.id)
      .execute();
    expect(rows).toHaveLength(1);
    const after = await t.kit.expectStatus<{ redeemed: number }>(
      200,
      'GET',
      `/api/v1/admin/coupons/${coupon.id}`,
      {
        as: t.admin,
      },
    );
    expect(after.redeemed).toBe(1);
    expect((await preview(coupon.code, [course])).json()).toMatchObject({
      code: 'commerce.coupon-exhausted',
    });
  });

  it('holds the per-user limit and gives a use back when its order closes', async () => {
    const course = await t.publishedCourse();
    const coupon = await createCoupon({
      kind: 'percentage',
      percentBps: 1000,
      perUserLimit: 1,
      totalLimit: 1,
    });
    const line = await lineOf(course);
    const user = t.learner.id;
    const orderId = randomUUID();
    await t.db
      .transaction()
      .execute((trx) =>
        t.coupons.redeemInTransaction(trx, { code: coupon.code, userId: user, orderId, lines: [line] }),
      );
    await expect(redeem(coupon.code, user, [line])).rejects.toMatchObject({
      code: 'commerce.coupon-exhausted',
    });
    await t.kit.expectStatus(200, 'PATCH', `/api/v1/admin/coupons/${coupon.id}`, {
      as: t.admin,
      body: { totalLimit: 5 },
    });
    await expect(redeem(coupon.code, user, [line])).rejects.toMatchObject({
      code: 'commerce.coupon-user-limit-reached',
    });
    expect((await preview(coupon.code, [course])).json()).toMatchObject({
      code: 'commerce.coupon-user-limit-reached',
    });

    expect(await t.coupons.releaseForOrder(t.db, orderId)).toBe(true);
    // a second release (a duplicate close event) changes nothing
    expect(await t.coupons.releaseForOrder(t.db, orderId)).toBe(false);
    const released = await t.kit.expectStatus<{ redeemed: number }>(
      200,
      'GET',
      `/api/v1/admin/coupons/${coupon.id}`,
      {
        as: t.admin,
      },
    );
    expect(released.redeemed).toBe(0);
    await redeem(coupon.code, user, [line]);
  });

  it('gives the use back when the order is cancelled or expires (commerce.order.closed)', async () => {
    const course = await t.publishedCourse();
    const coupon = await createCoupon({ kind: 'percentage', percentBps: 1000, totalLimit: 1 });
    const orderId = randomUUID();
    const line = await lineOf(course);
    await t.db.transaction().execute(async (trx) => {
      await t.coupons.redeemInTransaction(trx, {
        code: coupon.code,
        userId: t.learner.id,
        orderId,
        lines: [line],
      });
      // what the order's close writes in its own transaction
      await enqueue(trx, 'commerce', [
        OrderClosedEvent.create(orderId, {
          orderId,
          userId: t.learner.id,
          status: 'expired',
          closedAt: t.clock().toISOString(),
        }),
      ]);
    });
    await t.kit.settle();
    const after = await t.db
      .selectFrom('commerce.coupon_redemptions')
      .select(['status'])
      .where('order_id', '=', orderId)
      .executeTakeFirstOrThrow();
    expect(after.status).toBe('released');
    const shown = await t.kit.expectStatus<{ redeemed: number }>(
      200,
      'GET',
      `/api/v1/admin/coupons/${coupon.id}`,
      {
        as: t.admin,
      },
    );
    expect(shown.redeemed).toBe(0);
    expect((await preview(coupon.code, [course])).statusCode).toBe(200);
  });
});

describe('priceWithCoupon', () => {
  const coupon = (fields: Partial<Selectable<CouponTable>>): Selectable<CouponTable> => ({
    id: randomUUID(),
    code: 'X',
    kind: 'percentage',
    percent_bps: 3333,
    amount_off: null,
    currency: null,
    min_spend: null,
    scope: 'all',
    scope_ids: [],
    starts_at: null,
    ends_at: null,
    total_limit: null,
    per_user_limit: null,
    redeemed_count: 0,
    active: true,
    created_at: new Date(),
    updated_at: new Date(),
    ...fields,
  });

  it('never leaves a line below zero and always sums the parts to the discount', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let round = 0; round < 500; round++) {
      const lines: CartLine[] = Array.from({ length: 1 + (next() % 5) }, () => ({
        courseId: randomUUID(),
        categoryId: null,
        price: money(next() % 20_000, 'CNY'),
      }));
      if (lines.every((l) => l.price.amount === 0)) continue;
      const c =
        round % 2 === 0
          ? coupon({ percent_bps: 1 + (next() % 10_000) })
          : coupon({ kind: 'fixed', percent_bps: null, amount_off: 1 + (next() % 50_000), currency: 'CNY' });
      const priced = priceWithCoupon(c, lines, new Date());
      expect(priced.lines.reduce((s, l) => s + l.discount.amount, 0)).toBe(priced.discount.amount);
      expect(priced.total.amount).toBe(priced.subtotal.amount - priced.discount.amount);
      for (const l of priced.lines) {
        expect(l.amount.amount).toBeGreaterThanOrEqual(0);
        expect(l.discount.amount).toBeLessThanOrEqual(l.price.amount);
      }
    }
  });
});
