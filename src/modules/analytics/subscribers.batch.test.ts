import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { type AnalyticsTest, startAnalytics } from './analytics.test-support.js';

let t: AnalyticsTest;
beforeAll(async () => {
  t = await startAnalytics();
});
afterAll(async () => {
  await t.kit.stop();
});

const paid = (userId: string, courseIds: string[], instructorId: string) =>
  OrderPaidEvent.create(randomUUID(), {
    orderId: randomUUID(),
    userId,
    lines: courseIds.map((courseId) => ({
      courseId,
      title: 'C',
      amount: 100,
      instructorIds: [instructorId],
    })),
    total: 100 * courseIds.length,
    currency: 'CNY',
    provider: 'sandbox',
    paidAt: t.clock().toISOString(),
  });

describe('analytics.raw, events applied together', () => {
  it('gives the rows and counts of the events applied one by one, a refund in between included', async () => {
    const [a, b, c, d] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const [u1, u2, teacher] = [randomUUID(), randomUUID(), randomUUID()];
    const refund = OrderRefundedEvent.create(randomUUID(), {
      orderId: randomUUID(),
      userId: u1,
      refundId: randomUUID(),
      amount: 100,
      currency: 'CNY',
      revokedCourseIds: [b],
      orderStatus: 'refunded',
      refundedAt: t.clock().toISOString(),
    });
    // u2 owned a before: written first, so the batch below finds an old purchase
    await inTransaction(t.kit.app.platform.database.db, (trx) =>
      enqueue(trx, 'commerce', [paid(u2, [a], teacher)]),
    );
    await t.kit.settle();
    // one outbox transaction, so the relay and the bus hand these over together
    const events = [
      paid(u1, [a, b], teacher),
      paid(u2, [b], teacher),
      paid(u1, [c], teacher),
      refund,
      paid(u1, [d], teacher),
      paid(u1, [a], teacher), // bought again in another order: no new purchase
    ];
    await inTransaction(t.kit.app.platform.database.db, (trx) => enqueue(trx, 'commerce', events));
    await t.kit.settle();

    // u1 bought a, b, c (pairs ab ac bc), lost b (ab, bc gone), then d (ad cd); u2 a then b (ab)
    const pairs = await sql<{ a: string; b: string; buyers: number }>`
      select course_a as a, course_b as b, buyers from analytics.copurchases
      where course_a in (${a}, ${b}, ${c}, ${d}) order by 1, 2`.execute(t.db);
    const name = new Map<string, string>([
      [a, 'a'],
      [b, 'b'],
      [c, 'c'],
      [d, 'd'],
    ]);
    const found = Object.fromEntries(pairs.rows.map((r) => [`${name.get(r.a)}${name.get(r.b)}`, r.buyers]));
    expect(found).toEqual({ ab: 1, ba: 1, ac: 1, ca: 1, ad: 1, da: 1, cd: 1, dc: 1 });
    const buyers = await sql<{ c: string; buyers: number }>`
      select course_id as c, buyers from analytics.course_buyers where course_id in (${a}, ${b}, ${c}, ${d})`.execute(
      t.db,
    );
    expect(Object.fromEntries(buyers.rows.map((r) => [name.get(r.c), r.buyers]))).toEqual({
      a: 2,
      b: 1,
      c: 1,
      d: 1,
    });
    expect(await t.count('owned', `user_id = '${u1}'`)).toBe(3);
    expect(await t.count('owned', `user_id = '${u1}' and course_id = '${b}'`)).toBe(0);
    expect(await t.count('order_lines', `user_id = '${u1}'`)).toBe(5);
    expect(await t.count('course_instructors', `instructor_id = '${teacher}'`)).toBe(4);
    expect(await t.count('events', `actor = '${u1}'`)).toBe(5);
    expect(await t.count('dirty_days')).toBeGreaterThan(0);
  });
});
