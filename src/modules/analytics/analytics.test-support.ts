import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { createTestClock, type TestClock } from '../../platform/clock.js';
import { type Database, inTransaction } from '../../platform/db/database.js';
import type { EventDefinition } from '../../platform/messaging/events.js';
import { enqueue, outboxMigration } from '../../platform/messaging/outbox.js';
import type { LecternModule } from '../../platform/module.js';
import { type Caller, type Kit, startKit } from '../../../test/helpers/kit.js';
import { createCatalogModule } from '../catalog/index.js';
import { type AnalyticsDeps, type AnalyticsModule, createAnalyticsModule } from './index.js';
import type { AnalyticsTables } from './tables.js';
import type { Static, TSchema } from 'typebox';

/** Outboxes standing in for the modules whose events analytics reads: tests write their events. */
const outboxOnly = (name: string): LecternModule => ({
  name,
  migrations: { '0000-messaging': outboxMigration(name) },
});

export interface AnalyticsTest {
  kit: Kit;
  analytics: AnalyticsModule;
  clock: TestClock;
  db: Kysely<AnalyticsTables>;
  admin: Caller;
  /** Write these events to the publisher's outbox (as that module would) and wait until applied. */
  emit<S extends TSchema>(
    publisher: 'identity' | 'catalog' | 'commerce' | 'learning' | 'community',
    definition: EventDefinition<string, S>,
    data: Static<S>,
    /** When the event happened, if not now (an old event delivered late). */
    occurredAt?: Date,
  ): Promise<void>;
  /** POST a batch; `as` a caller, or anonymous with a client id. */
  send(events: unknown[], as: Caller | { clientId: string }): ReturnType<Kit['request']>;
  count(table: string, where?: string): Promise<number>;
}

/** Analytics on a fresh database with the real catalog; other publishers are outboxes. */
export async function startAnalytics(
  options: { settings?: AnalyticsDeps['settings']; start?: Date; database?: Database } = {},
): Promise<AnalyticsTest> {
  const clock = createTestClock(options.start ?? new Date('2026-03-10T12:00:00.000Z'));
  let analytics: AnalyticsModule | undefined;
  const kit = await startKit(
    (platform) => {
      const catalog = createCatalogModule(platform, {});
      analytics = createAnalyticsModule(platform, {
        clock,
        settings: { ANALYTICS_INGEST_BATCHES_PER_MINUTE: 10_000, ...options.settings },
      });
      return [
        outboxOnly('identity'),
        catalog,
        outboxOnly('learning'),
        outboxOnly('community'),
        outboxOnly('commerce'),
        analytics,
      ];
    },
    {
      env: { JOBS_POLL_MS: '500' },
      ...(options.database ? { platform: { database: options.database } } : {}),
    },
  );
  if (!analytics) throw new Error('analytics was not built');
  const admin = await kit.caller('admin');
  const root = kit.app.platform.database.db;
  const db = root.withTables<AnalyticsTables>() as Kysely<AnalyticsTables>;

  return {
    kit,
    analytics,
    clock,
    db,
    admin,
    async emit(publisher, definition, data, occurredAt) {
      await inTransaction(root, async (trx) => {
        const [event] = await enqueue(trx, publisher, [definition.create(randomUUID(), data)]);
        // dated back in the same transaction: the relay only ever sees the older time
        if (occurredAt && event) {
          await sql`update ${sql.table(`${publisher}.outbox`)} set occurred_at = ${occurredAt}
            where id = ${event.id}`.execute(trx);
        }
      });
      await kit.settle();
    },
    send(events, as) {
      return 'token' in as
        ? kit.request('POST', '/api/v1/analytics/events', { as, body: { events } })
        : kit.request('POST', '/api/v1/analytics/events', {
            body: { events },
            headers: { 'x-client-id': as.clientId },
          });
    },
    async count(table, where = 'true') {
      const rows = await sql<{ n: string }>`
        select count(*) as n from ${sql.table(`analytics.${table}`)} where ${sql.raw(where)}`.execute(root);
      return Number(rows.rows[0]?.n ?? 0);
    },
  };
}
