import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';
import { rsaPair } from './providers/alipay.test-support.js';

let t: CommerceTest;
beforeAll(async () => {
  const app = rsaPair();
  const alipay = rsaPair();
  t = await startCommerce({
    env: {
      ALIPAY_APP_ID: '2021000000000001',
      ALIPAY_PRIVATE_KEY: app.privatePem,
      ALIPAY_PUBLIC_KEY: alipay.publicPem,
      // never reached: the refusals below happen before any call
      ALIPAY_GATEWAY: 'http://127.0.0.1:9/gateway.do',
    },
  });
}, 60_000);
afterAll(async () => {
  await t.stop();
});

const where = (text: string) => sql.raw(text);

async function order(as: Caller, price = { amount: 4200, currency: 'CNY' }, couponCode?: string) {
  const course = await t.course(price);
  const created = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
    as,
    body: { courseIds: [course], ...(couponCode ? { couponCode } : {}) },
  });
  return { course, orderId: created.id };
}

async function sandboxPayment(as: Caller, orderId: string) {
  return t.kit.expectStatus<{ id: string }>(201, 'POST', `/api/v1/orders/${orderId}/payments`, {
    as,
    body: { provider: 'sandbox' },
  });
}

async function pay(as: Caller, orderId: string) {
  const payment = await sandboxPayment(as, orderId);
  await t.kit.expectStatus(200, 'POST', `/api/v1/sandbox/pay/${payment.id}`, { body: { action: 'pay' } });
  return payment.id;
}

const adminList = (query: string, as: Caller = t.admin) =>
  t.kit.request('GET', `/api/v1/admin/orders?${query}`, { as });
const ids = (res: { json: () => unknown }) =>
  (res.json() as { data: { id: string }[] }).data.map((o) => o.id).sort();

describe('admin order list', () => {
  it('filters by learner, status and creation time, pages, and is for admins only', async () => {
    const [a, b] = [await t.kit.caller('learner'), await t.kit.caller('learner')];
    const start = t.clock();
    const first = await order(a);
    await pay(a, first.orderId);
    t.clock.advance(3600);
    const second = await order(a);
    const third = await order(a);
    await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${third.orderId}/cancel`, { as: a, body: {} });
    const others = await order(b);
    t.clock.advance(-3600);

    expect(ids(await adminList(`userId=${a.id}`))).toEqual(
      [first, second, third].map((o) => o.orderId).sort(),
    );
    expect(ids(await adminList(`userId=${b.id}`))).toEqual([others.orderId]);
    expect(ids(await adminList(`userId=${a.id}&status=paid`))).toEqual([first.orderId]);
    expect(ids(await adminList(`userId=${a.id}&status=cancelled`))).toEqual([third.orderId]);
    expect(ids(await adminList(`userId=${a.id}&status=pending`))).toEqual([second.orderId]);
    const middle = new Date(start.getTime() + 1800 * 1000).toISOString();
    expect(ids(await adminList(`userId=${a.id}&createdTo=${middle}`))).toEqual([first.orderId]);
    expect(ids(await adminList(`userId=${a.id}&createdFrom=${middle}`))).toEqual(
      [second.orderId, third.orderId].sort(),
    );

    const page1 = (await adminList(`userId=${a.id}&limit=2`)).json<{
      data: { id: string }[];
      nextCursor: string;
    }>();
    expect(page1.data).toHaveLength(2);
    const page2 = (await adminList(`userId=${a.id}&limit=2&cursor=${page1.nextCursor}`)).json<{
      data: { id: string }[];
      nextCursor: string | null;
    }>();
    expect([...page1.data, ...page2.data].map((o) => o.id).sort()).toEqual(
      [first, second, third].map((o) => o.orderId).sort(),
    );
    expect(page2.nextCursor).toBeNull();

    expect((await adminList(`userId=${a.id}`, a)).statusCode).toBe(403);
    for (const bad of ['status=lost', 'userId=nope', 'createdFrom=yesterday', 'limit=0']) {
      const res = await adminList(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.headers['content-type'], bad).toMatch(/application\/problem\+json/);
      expect(res.body, bad).toContain(`/querystring/${bad.split('=')[0]}`);
    }
  });
});

describe('admin payment query', () => {
  it('settles a payment the provider holds as paid through the notification path, once', async () => {
    const learner = await t.kit.caller('learner');
    const { orderId } = await order(learner);
    const payment = await sandboxPayment(learner, orderId);
    // the payer paid, but the notification is an hour away
    const scheduled = await t.kit.expectStatus<{ scheduled: boolean }>(
      200,
      'POST',
      `/api/v1/sandbox/pay/${payment.id}`,
      { body: { action: 'pay', delaySeconds: 3600 } },
    );
    expect(scheduled.scheduled).toBe(true);
    const before = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, {
      as: learner,
    });
    expect(before.status).toBe('pending');

    expect(
      (await t.kit.request('POST', `/api/v1/admin/payments/${payment.id}/query`, { as: learner })).statusCode,
    ).toBe(403);
    const answer = await t.kit.expectStatus<{ providerStatus: string; outcome: string }>(
      200,
      'POST',
      `/api/v1/admin/payments/${payment.id}/query`,
      { as: t.admin },
    );
    expect(answer).toMatchObject({ paymentId: payment.id, providerStatus: 'succeeded', outcome: 'applied' });
    const after = await t.kit.expectStatus<{
      status: string;
      transitions: { actorKind: string; to: string }[];
    }>(200, 'GET', `/api/v1/orders/${orderId}`, { as: learner });
    expect(after.status).toBe('paid');
    expect(after.transitions.at(-1)).toMatchObject({ to: 'paid', actorKind: 'provider' });
    const paidEvents = (await t.kit.outbox('commerce', 'commerce.order.paid')).filter(
      (e) => e.aggregateId === orderId,
    );
    expect(paidEvents).toHaveLength(1);
    expect(await t.count('ledger_journals', where(`order_id = '${orderId}' and kind = 'sale'`))).toBe(1);

    const again = await t.kit.expectStatus<{ outcome: string }>(
      200,
      'POST',
      `/api/v1/admin/payments/${payment.id}/query`,
      { as: t.admin },
    );
    expect(again.outcome).toBe('duplicate');
    expect(await t.count('ledger_journals', where(`order_id = '${orderId}'`))).toBe(1);
    await t.kit.expectStatus(
      404,
      'POST',
      '/api/v1/admin/payments/00000000-0000-4000-8000-000000000000/query',
      {
        as: t.admin,
      },
    );
  });
});

describe('a coupon sent with a reused pending order', () => {
  it('is refused with a 409 naming the pending order, changing nothing; the same coupon gets the order back', async () => {
    const learner = await t.kit.caller('learner');
    await t.kit.expectStatus(201, 'POST', '/api/v1/admin/coupons', {
      as: t.admin,
      body: { code: 'REUSE-10', kind: 'percentage', percentBps: 1000 },
    });
    const course = await t.course({ amount: 5000, currency: 'CNY' });
    const post = (couponCode?: string) =>
      t.kit.request('POST', '/api/v1/orders', {
        as: learner,
        body: { courseIds: [course], ...(couponCode ? { couponCode } : {}) },
      });
    const plain = await post();
    expect(plain.statusCode).toBe(201);
    const pending = plain.json<{ id: string; total: { amount: number } }>();
    expect(pending.total.amount).toBe(5000);

    const withCoupon = await post('reuse-10');
    expect(withCoupon.statusCode).toBe(409);
    expect(withCoupon.json()).toMatchObject({ code: 'commerce.pending-order-coupon' });
    expect(withCoupon.json<{ detail: string }>().detail).toContain(pending.id);
    expect(withCoupon.body).toContain('/body/couponCode');
    expect(await t.count('coupon_redemptions', where(`user_id = '${learner.id}'`))).toBe(0);
    expect(await t.count('orders', where(`user_id = '${learner.id}'`))).toBe(1);

    // cancel and order again: the coupon applies to the new order
    await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${pending.id}/cancel`, { as: learner, body: {} });
    const priced = await post('REUSE-10');
    expect(priced.statusCode).toBe(201);
    const repriced = priced.json<{ id: string; total: { amount: number }; couponCode: string }>();
    expect(repriced.total.amount).toBe(4500);
    // the same coupon again is the same pending order (200), no second use taken
    const same = await post('reuse-10');
    expect(same.statusCode).toBe(200);
    expect(same.json<{ id: string }>().id).toBe(repriced.id);
    // and no coupon now keeps the order as priced
    const none = await post();
    expect(none.statusCode).toBe(200);
    expect(none.json<{ total: { amount: number } }>().total.amount).toBe(4500);
    expect(
      await t.count('coupon_redemptions', where(`user_id = '${learner.id}' and status = 'active'`)),
    ).toBe(1);
  });
});

describe('bad input is a 4xx problem+json naming the field and changes nothing', () => {
  const problem = (res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }) => {
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(String(res.headers['content-type'])).toMatch(/application\/problem\+json/);
    return res.json() as { code: string; fields?: { field: string }[] };
  };

  it('a currency the provider does not take', async () => {
    const learner = await t.kit.caller('learner');
    const { orderId } = await order(learner, { amount: 500, currency: 'USD' });
    const res = await t.kit.request('POST', `/api/v1/orders/${orderId}/payments`, {
      as: learner,
      body: { provider: 'alipay' },
    });
    expect(res.statusCode).toBe(400);
    const body = problem(res);
    expect(body.code).toBe('commerce.currency-not-supported');
    expect(body.fields?.map((f) => f.field)).toEqual(['/body/provider']);
    expect(await t.count('payments', where(`order_id = '${orderId}'`))).toBe(0);
  });

  it('someone else’s order, an unpublished course, an owned course, a coupon of another scope', async () => {
    const [me, other] = [await t.kit.caller('learner'), await t.kit.caller('learner')];
    const theirs = await order(other);
    const payAtTheirs = await t.kit.request('POST', `/api/v1/orders/${theirs.orderId}/payments`, {
      as: me,
      body: { provider: 'sandbox' },
    });
    expect(payAtTheirs.statusCode).toBe(404);
    expect(problem(payAtTheirs).code).toBe('commerce.order-not-found');
    expect(await t.count('payments', where(`order_id = '${theirs.orderId}'`))).toBe(0);
    // an id that exists and one that does not answer alike
    const none = await t.kit.request('POST', '/api/v1/orders/00000000-0000-4000-8000-000000000000/payments', {
      as: me,
      body: { provider: 'sandbox' },
    });
    expect(none.statusCode).toBe(404);
    const { code, detail, status } = payAtTheirs.json<{ code: string; detail: string; status: number }>();
    expect(none.json()).toMatchObject({ code, detail, status });

    const mine = where(`user_id = '${me.id}'`);
    const draft = await t.draftCourse();
    const unpublished = await t.kit.request('POST', '/api/v1/orders', {
      as: me,
      body: { courseIds: [draft] },
    });
    expect(unpublished.statusCode).toBe(404);
    expect(problem(unpublished).code).toBe('commerce.course-not-found');

    const owned = await order(me);
    await pay(me, owned.orderId);
    const ownedAgain = await t.kit.request('POST', '/api/v1/orders', {
      as: me,
      body: { courseIds: [owned.course] },
    });
    expect(ownedAgain.statusCode).toBe(409);
    expect(problem(ownedAgain).code).toBe('commerce.already-owned');

    const scoped = await t.course({ amount: 800, currency: 'CNY' });
    const outside = await t.course({ amount: 800, currency: 'CNY' });
    await t.kit.expectStatus(201, 'POST', '/api/v1/admin/coupons', {
      as: t.admin,
      body: { code: 'ONLY-ONE', kind: 'percentage', percentBps: 2000, scope: 'courses', scopeIds: [scoped] },
    });
    const wrongScope = await t.kit.request('POST', '/api/v1/orders', {
      as: me,
      body: { courseIds: [outside], couponCode: 'ONLY-ONE' },
    });
    expect(wrongScope.statusCode).toBe(409);
    expect(problem(wrongScope).code).toBe('commerce.coupon-scope-mismatch');

    expect(await t.count('orders', mine)).toBe(1);
    expect(await t.count('coupon_redemptions', mine)).toBe(0);
  });

  it('malformed or truncated notifications from each configured provider', async () => {
    const before = await t.count('notifications');
    const cases: [string, string, Record<string, string>][] = [
      [
        'sandbox',
        '{"id":"sbn_1","type":"payment.succ',
        { 'content-type': 'application/json', 'lectern-sandbox-signature': 't=1,v1=x' },
      ],
      ['sandbox', 'not json at all', { 'content-type': 'application/json' }],
      ['alipay', 'notify_id=1&out_trade_no=', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['alipay', '', { 'content-type': 'application/x-www-form-urlencoded' }],
    ];
    for (const [provider, body, headers] of cases) {
      const res = await t.kit.request('POST', `/api/v1/payments/notify/${provider}`, { body, headers });
      expect(res.statusCode, `${provider}: ${body}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${provider}: ${body}`).toBeLessThan(500);
      expect(String(res.headers['content-type'])).toMatch(/application\/problem\+json/);
    }
    expect(await t.count('notifications')).toBe(before);
  });
});
