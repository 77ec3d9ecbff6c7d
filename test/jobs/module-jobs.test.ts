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
