import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';

let t: CommerceTest;
beforeAll(async () => {
  t = await startCommerce();
}, 60_000);
afterAll(async () => {
  await t.stop();
});

const SWEEP = 'commerce.expire-orders';

async function newOrder(): Promise<string> {
  const courseId = await t.course();
  const order = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
    as: t.learner,
    body: { courseIds: [courseId] },
  });
  return order.id;
}

async function orderOf(orderId: string) {
  return t.kit.expectStatus<{
    status: string;
    transitions: { to: string; actorKind: string; actorId: string }[];
  }>(200, 'GET', `/api/v1/orders/${orderId}`, { as: t.learner });
}

const statusOf = async (orderId: string) => (await orderOf(orderId)).status;

describe('overdue orders are expired by a sweep every minute', () => {
  it('runs every minute, and expires the orders that are due, only those, each once', async () => {
    const schedule = await sql<{
      cron: string;
    }>`select cron from pgboss.schedule where name = ${SWEEP}`.execute(t.kit.app.platform.database.db);
    expect(schedule.rows.map((r) => r.cron)).toEqual(['* * * * *']);

    const a = await newOrder();
    const b = await newOrder();
    t.clock.advance(20 * 60);
    const later = await newOrder();
    t.clock.advance(11 * 60); // a and b are 31 minutes old (TTL 30), the later one 11
    try {
      await t.runJob(SWEEP, {});
      expect(await statusOf(a)).toBe('expired');
      expect(await statusOf(b)).toBe('expired');
      expect(await statusOf(later)).toBe('pending');
      expect((await orderOf(a)).transitions.at(-1)).toMatchObject({
        to: 'expired',
        actorKind: 'system',
        actorId: SWEEP,
      });
      const closed = (await t.kit.outbox('commerce', 'commerce.order.closed')).map((e) => e.aggregateId);
      expect(closed.filter((id) => id === a || id === b).sort()).toEqual([a, b].sort());
      expect(closed).not.toContain(later);

      // a second sweep finds nothing new; the later order goes once its own time has passed
      await t.runJob(SWEEP, {});
      expect(await statusOf(later)).toBe('pending');
      t.clock.advance(20 * 60);
      await t.runJob(SWEEP, {});
      expect(await statusOf(later)).toBe('expired');
      const again = (await t.kit.outbox('commerce', 'commerce.order.closed')).map((e) => e.aggregateId);
      expect(again.filter((id) => id === a)).toHaveLength(1);
    } finally {
      t.clock.advance(-51 * 60);
    }
  });

  // two transactions at once need two connections: PGlite has one
  it.skipIf(!process.env.DATABASE_URL)(
    'leaves an order another transaction holds to the next sweep, without waiting for it',
    async () => {
      const held = await newOrder();
      const free = await newOrder();
      t.clock.advance(31 * 60);
      const db = t.kit.app.platform.database.db;
      let release: () => void = () => undefined;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let locked: () => void = () => undefined;
      const isLocked = new Promise<void>((resolve) => {
        locked = resolve;
      });
      try {
        // a payment's notification holding the order's row, as it does while it settles it
        const holder = db.transaction().execute(async (trx) => {
          await sql`select id from commerce.orders where id = ${held} for update`.execute(trx);
          locked();
          await released;
        });
        await isLocked;
        await t.runJob(SWEEP, {});
        expect(await statusOf(free)).toBe('expired');
        expect(await statusOf(held)).toBe('pending');
        release();
        await holder;
        await t.runJob(SWEEP, {});
        expect(await statusOf(held)).toBe('expired');
      } finally {
        release();
        t.clock.advance(-31 * 60);
      }
    },
  );

  it('sends no job per order: creating one queues nothing', async () => {
    // the cron schedules' own jobs (the sweep's each minute) may come meanwhile: not the order's
    const count = async () =>
      Number(
        (
          await sql<{ n: string }>`select count(*) as n from pgboss.job
            where name like 'commerce.%' and name not in (select name from pgboss.schedule)`.execute(
            t.kit.app.platform.database.db,
          )
        ).rows[0]?.n,
      );
    const before = await count();
    await newOrder();
    expect(await count()).toBe(before);
  });
});
