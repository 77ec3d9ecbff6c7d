import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshReplicatedDatabase, type ReplicatedDatabase } from '../../../test/helpers/database.js';
import { OrderPaidEvent } from '../commerce/index.js';
import { type AnalyticsTest, startAnalytics } from './analytics.test-support.js';

// DATABASE_READ_URL: reports answer from the replica, while events and aggregates are written to
// the primary. The replica is a second database brought up to date only when the test says so.
const databaseUrl = process.env.DATABASE_URL;

describe.skipIf(!databaseUrl)('analytics reports read from a replica', () => {
  let replicated: ReplicatedDatabase;
  let t: AnalyticsTest;

  beforeAll(async () => {
    replicated = await freshReplicatedDatabase(databaseUrl ?? '');
    t = await startAnalytics({ start: new Date('2026-03-10T20:00:00.000Z'), database: replicated.database });
    await replicated.replicate(['analytics']);
  }, 60_000);
  afterAll(() => t.kit.stop());

  it('a paid order is counted on the primary; the platform report shows it once the replica catches up', async () => {
    await t.emit('commerce', OrderPaidEvent, {
      orderId: randomUUID(),
      userId: randomUUID(),
      lines: [{ courseId: randomUUID(), title: 'x', amount: 9900, instructorIds: [] }],
      total: 9900,
      currency: 'CNY',
      provider: 'sandbox',
      paidAt: '2026-03-08T10:00:00.000Z',
    });
    await t.analytics.services.aggregates.refresh();
    const daily = 'analytics.daily_revenue';
    const counts = await replicated.count(daily);
    expect(counts.primary).toBeGreaterThan(0);
    expect(counts.replica).toBe(0);

    type Sales = { data: { day: string; orders: number; revenue: { amount: number } }[] };
    const report = () =>
      t.kit.expectStatus<Sales>(200, 'GET', '/api/v1/analytics/reports/sales?from=2026-03-07&to=2026-03-09', {
        as: t.admin,
      });
    const orders = (s: Sales) => s.data.reduce((n, p) => n + p.orders, 0);
    expect(orders(await report())).toBe(0);

    await replicated.replicate(['analytics']);
    const caught = await report();
    expect(orders(caught)).toBe(1);
    expect(caught.data.find((p) => p.orders === 1)).toMatchObject({
      day: '2026-03-08',
      revenue: { amount: 9900 },
    });
  });
});
