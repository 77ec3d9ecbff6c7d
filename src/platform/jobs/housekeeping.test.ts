import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createProbeModule } from '../../../test/helpers/probe-module.js';
import { waitFor } from '../messaging/test-support.js';
import { HOUSEKEEPING_JOB_NAMES } from './housekeeping.jobs.js';

let t: TestApp;
let db: Kysely<object>;

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

async function outboxRow(label: string, occurredDaysAgo: number, publishedDaysAgo: number | null) {
  await sql`insert into probe.outbox (id, type, aggregate_id, data, occurred_at, published_at)
    values (${randomUUID()}, 'probe.thing.happened', ${label}, '{}'::jsonb, ${daysAgo(occurredDaysAgo)},
            ${publishedDaysAgo === null ? null : daysAgo(publishedDaysAgo)})`.execute(db);
}

async function inboxRow(consumer: string, appliedDaysAgo: number) {
  await sql`insert into probe.inbox (consumer, event_id, applied_at)
    values (${consumer}, ${randomUUID()}, ${daysAgo(appliedDaysAgo)})`.execute(db);
}

async function idempotencyKey(key: string, expiresInSeconds: number) {
  await sql`insert into platform.idempotency_keys (scope, key, fingerprint, state, locked_until, expires_at)
    values ('test', ${key}, 'f', 'completed', now(), now() + ${`${expiresInSeconds} seconds`}::interval)`.execute(
    db,
  );
}

/** Run a job now through the queue, as its cron tick would, and wait until it completed. */
async function runJob(name: string) {
  const id = await t.platform.jobs.send(name, {});
  await waitFor(async () => {
    const { rows } = await sql<{ state: string }>`select state from pgboss.job where id = ${id}`.execute(db);
    if (rows[0]?.state === 'failed') throw new Error(`${name} failed`);
    return rows[0]?.state === 'completed';
  }, name);
}

beforeAll(async () => {
  t = await buildTestApp((platform) => [createProbeModule(platform.database.db)], {
    env: { JOBS_POLL_MS: '500', MESSAGING_RETENTION_DAYS: '7' },
  });
  db = t.platform.database.db;
});
afterAll(async () => {
  await t.stop();
});

describe('housekeeping jobs', () => {
  it('are on cron schedules in UTC, the messaging purge one per module schema', async () => {
    const { rows } = await sql<{ name: string; cron: string; timezone: string }>`
      select name, cron, timezone from pgboss.schedule order by name`.execute(db);
    expect(rows).toEqual([
      { name: HOUSEKEEPING_JOB_NAMES.idempotencyKeys, cron: '7 * * * *', timezone: 'UTC' },
      { name: HOUSEKEEPING_JOB_NAMES.messaging('probe'), cron: '23 3 * * *', timezone: 'UTC' },
    ]);
  });

  it('delete published outbox rows and inbox rows past the retention, and nothing else', async () => {
    await outboxRow('published-old', 10, 9);
    await outboxRow('published-recent', 10, 2);
    await outboxRow('unpublished-old', 30, null);
    await inboxRow('probe.old', 8);
    await inboxRow('probe.recent', 1);

    await runJob(HOUSEKEEPING_JOB_NAMES.messaging('probe'));

    const outbox = await sql<{
      aggregate_id: string;
    }>`select aggregate_id from probe.outbox order by aggregate_id`.execute(db);
    expect(outbox.rows.map((r) => r.aggregate_id)).toEqual(['published-recent', 'unpublished-old']);
    const inbox = await sql<{ consumer: string }>`select consumer from probe.inbox`.execute(db);
    expect(inbox.rows.map((r) => r.consumer)).toEqual(['probe.recent']);
  });

  it('purge expired idempotency keys and keep live ones', async () => {
    await idempotencyKey('expired', -60);
    await idempotencyKey('live', 3600);

    await runJob(HOUSEKEEPING_JOB_NAMES.idempotencyKeys);

    const { rows } = await sql<{
      key: string;
    }>`select key from platform.idempotency_keys where scope = 'test'`.execute(db);
    expect(rows.map((r) => r.key)).toEqual(['live']);
  });
});
