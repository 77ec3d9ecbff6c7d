import { type RawBuilder, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAllModulesApp } from '../../../../test/helpers/all-modules.js';
import type { TestApp } from '../../../../test/helpers/app.js';
import { waitFor } from '../../../platform/messaging/test-support.js';
import type { LecternModule } from '../../../platform/module.js';
import { DEMO_LEARNER_IDS } from '../../identity/index.js';
import { DEMO_BUYERS, DEMO_COUPON, DEMO_ORDERS } from './demo.data.js';
import { freePort } from '../../../../test/helpers/ports.js';

interface Money {
  amount: number;
  currency: string;
}
interface OrderWire {
  id: string;
  userId: string;
  status: string;
  subtotal: Money;
  discount: Money;
  total: Money;
  couponCode: string | null;
  lines: { courseId: string; instructorIds: string[] }[];
}

let t: TestApp;
let commerce: LecternModule;

const call = async <T>(
  status: number,
  method: 'GET' | 'POST',
  url: string,
  token?: string,
  body?: unknown,
): Promise<T> => {
  const res = await t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body === undefined ? {} : { payload: body as object }),
  });
  if (res.statusCode !== status) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return (res.body === '' ? undefined : res.json()) as T;
};
const login = async (email: string, password: string) =>
  (await call<{ accessToken: string }>(200, 'POST', '/auth/login', undefined, { email, password }))
    .accessToken;
const count = async (query: RawBuilder<{ n: number }>) =>
  (await query.execute(t.platform.database.db)).rows[0]?.n ?? 0;

beforeAll(async () => {
  // the jobs stay queued, as `lectern seed` leaves them for a worker; nothing listens on the app's
  // port, so the sandbox's posts to its notify URL are refused, as under `lectern seed`
  const built = await buildAllModulesApp({ env: { PORT: String(await freePort()) }, jobs: false });
  t = built.t;
  const found = built.composed.modules.find((m) => m.name === 'commerce');
  if (!found) throw new Error('commerce is not composed');
  commerce = found;
  await built.composed.modules.find((m) => m.name === 'identity')?.seed?.();
}, 60_000);
afterAll(async () => {
  await t.stop();
});

describe('commerce demo data', () => {
  it('sells demo courses through the sandbox, refunds one, and leaves a coupon, once', {
    timeout: 60_000,
  }, async () => {
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    const instructors = [
      await login('instructor1@demo.lectern.dev', 'maple-compass-3958'),
      await login('instructor2@demo.lectern.dev', 'cedar-beacon-6184'),
    ];

    // nothing to sell yet: nothing made, not even the coupon
    expect(await commerce.seed?.()).toBeUndefined();
    expect((await call<{ data: unknown[] }>(200, 'GET', '/admin/coupons', admin)).data).toHaveLength(0);

    // twelve paid courses of the two demo instructors and a free one, published as the demo catalog's are
    for (let i = 0; i < 13; i++) {
      const owner = instructors[i % 2] ?? '';
      const course = await call<{ id: string }>(201, 'POST', '/courses', owner, {
        title: `Demo course ${i}`,
        price: { amount: i === 12 ? 0 : 9900 + i * 1000, currency: 'CNY' },
        level: 'beginner',
        language: 'zh-CN',
      });
      const chapter = await call<{ id: string }>(201, 'POST', `/courses/${course.id}/chapters`, owner, {
        title: 'One',
      });
      await call(201, 'POST', `/chapters/${chapter.id}/lessons`, owner, {
        title: 'Lesson',
        kind: 'article',
        body: 'Body',
        freePreview: false,
      });
      await call(200, 'POST', `/courses/${course.id}/submit`, owner);
      await call(200, 'POST', `/courses/${course.id}/approve`, admin);
    }

    const lines = await commerce.seed?.();
    expect(lines?.[0]).toMatch(/^commerce: 10 paid sandbox orders by demo buyers, 1 refunded/);
    expect(lines?.[1]).toMatch(
      /^commerce: coupon DEMO10, 10% off any course until \d{4}-\d\d-\d\d .*couponCode/,
    );

    const orders = (await call<{ data: OrderWire[] }>(200, 'GET', '/admin/orders?limit=100', admin)).data;
    expect(orders).toHaveLength(DEMO_ORDERS);
    expect(orders.map((o) => o.status).sort()).toEqual([...Array<string>(9).fill('paid'), 'refunded']);
    // the buyers are identity's demo learners: accounts an admin can look up
    for (const order of orders) expect(DEMO_LEARNER_IDS).toContain(order.userId);
    for (const userId of new Set(orders.map((o) => o.userId))) {
      await call(200, 'GET', `/admin/users/${userId}`, admin);
    }
    const courseIds = orders.flatMap((o) => o.lines.map((l) => l.courseId));
    expect(new Set(courseIds).size).toBe(DEMO_ORDERS);
    // both demo instructors sold, so both logins see earnings
    expect(new Set(orders.flatMap((o) => o.lines.flatMap((l) => l.instructorIds))).size).toBe(2);
    const discounted = orders.filter((o) => o.couponCode === DEMO_COUPON.code);
    expect(discounted).toHaveLength(1);
    expect(discounted[0]?.discount.amount).toBe(Math.floor((discounted[0]?.subtotal.amount ?? 0) / 10));

    // the books: balanced, the sales less the refunded one in the clearing account, the refund booked
    const refunded = orders.find((o) => o.status === 'refunded');
    const sold = orders.reduce((sum, o) => sum + o.total.amount, 0);
    const balance = await call<{
      accounts: { account: string; currency: string; balance: number }[];
      totals: { currency: string; balance: number }[];
      unbalancedJournals: number;
    }>(200, 'GET', '/admin/ledger/trial-balance', admin);
    expect(balance.unbalancedJournals).toBe(0);
    expect(balance.totals).toEqual([{ currency: 'CNY', balance: 0 }]);
    expect(balance.accounts.find((a) => a.account === 'provider_clearing')?.balance).toBe(
      sold - (refunded?.total.amount ?? 0),
    );
    const refunds = await call<{ data: { id: string; orderId: string; status: string; amount: Money }[] }>(
      200,
      'GET',
      '/admin/refunds',
      admin,
    );
    expect(refunds.data).toEqual([
      expect.objectContaining({ orderId: refunded?.id, status: 'succeeded', amount: refunded?.total }),
    ]);
    // made by the demo admin account: its id is the one the transitions record
    const adminId = (await call<{ id: string }>(200, 'GET', '/me', admin)).id;
    const refund = await call<{
      requestedBy: { kind: string; id: string | null };
      transitions: { to: string; actorKind: string; actorId: string | null }[];
    }>(200, 'GET', `/refunds/${refunds.data[0]?.id ?? ''}`, admin);
    expect(refund.requestedBy).toEqual({ kind: 'admin', id: adminId });
    const byAdmin = refund.transitions.filter((tr) => tr.actorKind === 'admin');
    expect(byAdmin.length).toBeGreaterThan(0);
    for (const tr of byAdmin) expect(tr.actorId, tr.to).toBe(adminId);
    const order = await call<{ transitions: { to: string; actorKind: string; actorId: string | null }[] }>(
      200,
      'GET',
      `/admin/orders/${refunded?.id ?? ''}`,
      admin,
    );
    for (const tr of order.transitions.filter((o) => o.actorKind === 'admin')) {
      expect(tr.actorId, tr.to).toBe(adminId);
    }
    for (const token of instructors) {
      const earnings = await call<{ earnings: { currency: string; sales: number }[] }>(
        200,
        'GET',
        '/earnings',
        token,
      );
      expect(earnings.earnings[0]?.sales).toBeGreaterThan(0);
    }
    const earnings = await call<{ data: { refunds: number }[] }>(200, 'GET', '/admin/earnings', admin);
    expect(earnings.data.some((e) => e.refunds !== 0)).toBe(true);

    // each sale announced itself, and learning grants the buyers what they still hold
    const paidEvents = sql<{ n: number }>`
      select count(*)::int as n from commerce.outbox where type = 'commerce.order.paid'`;
    expect(await count(paidEvents)).toBe(DEMO_ORDERS);
    const grants = sql<{ n: number }>`
      select count(*)::int as n from learning.grants
      where source = 'order' and user_id = any(${[...DEMO_BUYERS]}::uuid[])`;
    await waitFor(async () => {
      await t.relay.runOnce();
      return (await count(grants)) === DEMO_ORDERS - 1;
    }, 'learning to grant the demo purchases and revoke the refunded one');
    const revoked = await count(sql<{ n: number }>`
      select count(*)::int as n from learning.grants where source_id = ${refunded?.id ?? ''}`);
    expect(revoked).toBe(0);

    // the README walkthrough: the demo learner owns nothing, and the coupon takes 10 % off its first course
    const learner = await login('learner@demo.lectern.dev', 'willow-quartz-2736');
    const me = await call<{ id: string }>(200, 'GET', '/me', learner);
    expect(
      (await call<{ data: unknown[] }>(200, 'GET', `/admin/orders?userId=${me.id}`, admin)).data,
    ).toHaveLength(0);
    const first = (
      await call<{ data: { id: string; price: Money }[] }>(
        200,
        'GET',
        '/courses?free=false&currency=CNY&limit=5',
      )
    ).data[0];
    const mine = await call<OrderWire>(201, 'POST', '/orders', learner, {
      courseIds: [first?.id],
      couponCode: DEMO_COUPON.code,
    });
    expect(mine.couponCode).toBe(DEMO_COUPON.code);
    expect(mine.total.amount).toBe(mine.subtotal.amount - Math.floor(mine.subtotal.amount / 10));
    expect(mine.discount.amount).toBeGreaterThan(0);

    // a second run (every start) adds nothing
    expect(await commerce.seed?.()).toBeUndefined();
    expect((await call<{ data: unknown[] }>(200, 'GET', '/admin/orders?limit=100', admin)).data).toHaveLength(
      DEMO_ORDERS + 1,
    );
    expect((await call<{ data: unknown[] }>(200, 'GET', '/admin/coupons', admin)).data).toHaveLength(1);
    expect(await count(paidEvents)).toBe(DEMO_ORDERS);
  });
});
