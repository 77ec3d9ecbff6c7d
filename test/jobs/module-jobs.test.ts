import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../src/platform/jobs/job.js';
import { createJobQueue } from '../../src/platform/jobs/job-queue.js';
import { capturingLogger, waitFor } from '../../src/platform/messaging/test-support.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule } from '../helpers/probe-module.js';

const ran: string[] = [];
const expireOrder = defineJob({
  name: 'probe.expire-order',
  data: Type.Object({ orderId: Type.String() }),
  handle(data) {
    ran.push(data.orderId);
  },
});

let t: TestApp;

// what `lectern serve --no-worker` builds: HTTP only, jobs can be sent but run elsewhere
beforeAll(async () => {
  t = await buildTestApp(
    (platform) => [{ ...createProbeModule(platform.database.db), jobs: [expireOrder] }],
    {
      env: { JOBS_POLL_MS: '500' },
      worker: false,
    },
  );
});
afterAll(async () => {
  await t.stop();
});

const stateOf = async (id: string | null) =>
  (
    await sql<{ state: string }>`select state from pgboss.job where id = ${id}`.execute(
      t.platform.database.db,
    )
  ).rows[0]?.state;

describe('module jobs in a process without the worker', () => {
  it('declares the module queue, sends, runs nothing; a worker started later runs the job', async () => {
    expect(t.platform.jobs.describe()).toContain('send only');
    const id = await t.platform.jobs.send(expireOrder, { orderId: 'o-1' });
    // three polling rounds of a worker, had there been one here
    await sleep(1500);
    expect(await stateOf(id)).toBe('created');
    expect(ran).toEqual([]);

    const worker = createJobQueue({
      db: t.platform.database.db,
      logger: capturingLogger('warn').logger,
      pollingIntervalSeconds: 0.5,
    });
    try {
      await worker.start({ worker: true });
      await worker.register([expireOrder]);
      await worker.work([expireOrder]);
      await waitFor(() => ran.length > 0, 'the job in the worker');
      expect(ran).toEqual(['o-1']);
    } finally {
      await worker.stop();
    }
  });
});

describe('module jobs in a worker told to run no jobs', () => {
  let events: TestApp;
  beforeAll(async () => {
    events = await buildTestApp(
      (platform) => [{ ...createProbeModule(platform.database.db), jobs: [expireOrder] }],
      { env: { JOBS_POLL_MS: '500', OUTBOX_POLL_MS: '50' }, jobs: false },
    );
  });
  afterAll(async () => {
    await events.stop();
  });

  it('relays events but leaves a sent job queued, for a test to run by hand', async () => {
    expect(events.platform.jobs.describe()).toContain('send only');
    const id = await events.platform.jobs.send(expireOrder, { orderId: 'o-2' });
    await sql`insert into probe.outbox (id, type, version, aggregate_id, data, occurred_at)
      values (gen_random_uuid(), 'probe.item.created', 1, 'i-1', '{}', now())`.execute(
      events.platform.database.db,
    );
    await waitFor(async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from probe.outbox where published_at is null`.execute(
        events.platform.database.db,
      );
      return rows[0]?.n === 0;
    }, 'the relay');
    // three polling rounds of a job worker, had this app run one
    await sleep(1500);
    const { rows } = await sql<{ state: string }>`select state from pgboss.job where id = ${id}`.execute(
      events.platform.database.db,
    );
    expect(rows[0]?.state).toBe('created');
    expect(ran).not.toContain('o-2');
  });
});
