import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import type { Database } from '../db/database.js';
import { capturingLogger, waitFor } from '../messaging/test-support.js';
import { createMetrics } from '../observability/metrics.js';
import { defineJob, type JobDefinition } from './job.js';
import { createJobQueue, type JobQueue } from './job-queue.js';

let database: Database;
let queue: JobQueue;
const { logger, lines } = capturingLogger('warn');
const metrics = createMetrics();

/** What the handlers saw, per job name. */
const runs = new Map<string, { data: unknown; attempt: number; at: number }[]>();
function record(name: string, data: unknown, attempt: number) {
  const list = runs.get(name) ?? [];
  list.push({ data, attempt, at: Date.now() });
  runs.set(name, list);
}
const runsOf = (name: string) => runs.get(name) ?? [];

const Greeting = Type.Object({ to: Type.String() });

const greet = defineJob({
  name: 'test.greet',
  data: Greeting,
  handle(data, { attempt }) {
    record('test.greet', data, attempt);
  },
});

// fails on its first two runs, then succeeds: retry delay 1 s, doubled by the backoff
const flaky = defineJob({
  name: 'test.flaky',
  data: Type.Object({ n: Type.Integer() }),
  retry: { limit: 3, delaySeconds: 1, backoff: true },
  handle(data, { attempt }) {
    record('test.flaky', data, attempt);
    if (attempt < 3) throw new Error(`flaky failure ${attempt}`);
  },
});

const brittle = defineJob({
  name: 'test.brittle',
  data: Type.Object({ fail: Type.Boolean(), n: Type.Integer() }),
  retry: { limit: 0, delaySeconds: 0, backoff: false },
  handle(data, { attempt }) {
    record('test.brittle', data, attempt);
    if (data.fail) throw new Error('brittle job fails on purpose');
  },
});

const unique = defineJob({
  name: 'test.unique',
  data: Type.Object({}),
  uniqueByKey: true,
  handle() {
    record('test.unique', {}, 1);
  },
});

const jobs: JobDefinition[] = [greet, flaky, brittle, unique];

async function stateOf(db: Kysely<object>, id: string | null): Promise<string | undefined> {
  if (!id) return undefined;
  const { rows } = await sql<{ state: string }>`select state from pgboss.job where id = ${id}`.execute(db);
  return rows[0]?.state;
}

beforeAll(async () => {
  database = await freshDatabase();
  queue = createJobQueue({ db: database.db, logger, metrics, pollingIntervalSeconds: 0.5 });
  await queue.start({ worker: true });
  await queue.register(jobs);
  // `unique` gets no worker: its jobs must stay waiting for the dedupe check
  await queue.work([greet, flaky, brittle]);
});

afterAll(async () => {
  await queue.stop();
  await database.close();
});

describe('job queue', () => {
  it('starts once when asked again while starting (the app begins it early), and stop() waits for that start', async () => {
    const other = createJobQueue({ db: database.db, logger });
    const first = other.start({ worker: false });
    expect(other.start({ worker: false })).toBe(first);
    // asked to stop mid-start: it lets the start finish, then stops what it started
    await other.stop();
    await first;
    expect(other.describe()).toBe('pg-boss in schema pgboss (send only)');
  });

  it('installs pg-boss in the pgboss schema and declares one queue per job', async () => {
    const { rows } = await sql<{ name: string; policy: string; retry_limit: number }>`
      select name, policy, retry_limit from pgboss.queue where name like 'test.%' order by name`.execute(
      database.db,
    );
    expect(rows).toEqual([
      { name: 'test.brittle', policy: 'standard', retry_limit: 0 },
      { name: 'test.flaky', policy: 'standard', retry_limit: 3 },
      { name: 'test.greet', policy: 'standard', retry_limit: 5 },
      { name: 'test.unique', policy: 'short', retry_limit: 5 },
    ]);
  });

  it('runs a delayed job with its typed data, not before its start time', async () => {
    const startAfter = new Date(Date.now() + 1500);
    const id = await queue.send(greet, { to: 'delayed' }, { startAfter });
    expect(id).toEqual(expect.any(String));
    await waitFor(
      () => runsOf('test.greet').some((r) => (r.data as { to: string }).to === 'delayed'),
      'delayed job',
    );
    const run = runsOf('test.greet').find((r) => (r.data as { to: string }).to === 'delayed');
    expect(run?.at).toBeGreaterThanOrEqual(startAfter.getTime());
    await waitFor(async () => (await stateOf(database.db, id)) === 'completed', 'completed state');
  });

  it('accepts delaySeconds as well as startAfter', async () => {
    const sentAt = Date.now();
    await queue.send(greet, { to: 'in-a-second' }, { delaySeconds: 1 });
    await waitFor(
      () => runsOf('test.greet').some((r) => (r.data as { to: string }).to === 'in-a-second'),
      'job',
    );
    const run = runsOf('test.greet').find((r) => (r.data as { to: string }).to === 'in-a-second');
    expect(run!.at - sentAt).toBeGreaterThanOrEqual(1000);
  });

  it('retries a failing job with a growing delay until it succeeds', async () => {
    const id = await queue.send(flaky, { n: 1 });
    await waitFor(
      async () => (await stateOf(database.db, id)) === 'completed',
      'flaky job to complete',
      30_000,
    );
    const attempts = runsOf('test.flaky');
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    const [first, second, third] = attempts.map((a) => a.at) as [number, number, number];
    // backoff: at least delay·2^0 = 1 s before the first retry, at least 2 s before the second
    expect(second - first).toBeGreaterThanOrEqual(950);
    expect(third - second).toBeGreaterThanOrEqual(1950);
    expect(lines.filter((l) => l.msg === 'job failed; will retry' && l.job === 'test.flaky')).toHaveLength(2);
    const counted = await metrics.registry.getSingleMetricAsString('lectern_job_runs_total');
    expect(counted).toContain('lectern_job_runs_total{job="test.flaky",outcome="retried"} 2');
    expect(counted).toContain('lectern_job_runs_total{job="test.flaky",outcome="completed"} 1');
  }, 40_000);

  it('keeps working after a job fails for good: the others in its queue and in other queues run', async () => {
    const failing = await queue.send(brittle, { fail: true, n: 1 });
    const after = await queue.send(brittle, { fail: false, n: 2 });
    await queue.send(greet, { to: 'after-failure' });
    await waitFor(
      async () => (await stateOf(database.db, after)) === 'completed',
      'the job after the failure',
    );
    await waitFor(
      () => runsOf('test.greet').some((r) => (r.data as { to: string }).to === 'after-failure'),
      'greet',
    );
    expect(await stateOf(database.db, failing)).toBe('failed');
    expect(runsOf('test.brittle').filter((r) => (r.data as { n: number }).n === 1)).toHaveLength(1);
    expect(lines.some((l) => l.msg === 'job failed; no retries left' && l.job === 'test.brittle')).toBe(true);
  });

  it('drops a second waiting job with the same singletonKey on a uniqueByKey queue', async () => {
    const first = await queue.send(unique, {}, { singletonKey: 'order-1', delaySeconds: 60 });
    const second = await queue.send(unique, {}, { singletonKey: 'order-1', delaySeconds: 60 });
    const other = await queue.send(unique, {}, { singletonKey: 'order-2', delaySeconds: 60 });
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();
    expect(other).toEqual(expect.any(String));
  });

  it('sends inside the caller transaction: a rollback leaves no job, a commit keeps it', async () => {
    const count = async () =>
      Number(
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from pgboss.job where name = 'test.greet' and data->>'to' like 'trx-%'`.execute(
            database.db,
          )
        ).rows[0]?.n,
      );
    await expect(
      database.db.transaction().execute(async (trx) => {
        await queue.send(greet, { to: 'trx-rolled-back' }, { transaction: trx, delaySeconds: 60 });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await count()).toBe(0);
    await database.db.transaction().execute(async (trx) => {
      await queue.send(greet, { to: 'trx-committed' }, { transaction: trx, delaySeconds: 60 });
    });
    expect(await count()).toBe(1);
  });

  it('sends many jobs in one statement, inside the caller transaction, each with its data and start', async () => {
    const waiting = async () =>
      (
        await sql<{ to: string; delayed: boolean }>`
          select data->>'to' as to, start_after > now() + interval '30 seconds' as delayed
          from pgboss.job where name = 'test.greet' and data->>'to' like 'many-%' order by 1`.execute(
          database.db,
        )
      ).rows;
    await expect(
      database.db.transaction().execute(async (trx) => {
        await queue.sendMany(greet, [{ data: { to: 'many-rolled-back' } }], { transaction: trx });
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await waiting()).toEqual([]);

    const later = new Date(Date.now() + 60_000);
    const statements: string[] = [];
    await database.db.transaction().execute(async (trx) => {
      // every statement run through the transaction passes here once
      const spy = trx.withPlugin({
        transformQuery: (args) => args.node,
        transformResult(args) {
          statements.push(args.queryId.queryId);
          return Promise.resolve(args.result);
        },
      });
      await queue.sendMany(
        greet,
        [
          { data: { to: 'many-a' }, startAfter: later },
          { data: { to: 'many-b' }, startAfter: later },
          { data: { to: 'many-c' } },
        ],
        { transaction: spy },
      );
    });
    expect(statements).toHaveLength(1);
    await waitFor(
      () => runsOf('test.greet').some((r) => (r.data as { to: string }).to === 'many-c'),
      'the job without a start',
    );
    expect(await waiting()).toEqual(
      expect.arrayContaining([
        { to: 'many-a', delayed: true },
        { to: 'many-b', delayed: true },
      ]),
    );
    expect(runsOf('test.greet').some((r) => (r.data as { to: string }).to === 'many-a')).toBe(false);

    // one bad item: nothing is written
    await expect(
      queue.sendMany(greet, [{ data: { to: 'many-d' } }, { data: { to: 42 } as unknown as { to: string } }]),
    ).rejects.toThrow(/does not match/);
    expect((await waiting()).map((r) => r.to)).not.toContain('many-d');
  });

  it('refuses data that does not match the job schema, and sends nothing', async () => {
    await expect(queue.send(greet, { to: 42 } as unknown as { to: string })).rejects.toThrow(
      /does not match/,
    );
    await expect(queue.send('test.greet', { nobody: true })).rejects.toThrow(/does not match/);
  });
});

describe('a worker with jobs waiting', () => {
  it('runs them back to back: only an idle worker waits out the polling interval', async () => {
    const drain = defineJob({
      name: 'test.drain',
      data: Type.Object({ n: Type.Integer() }),
      handle(data, { attempt }) {
        record('test.drain', data, attempt);
      },
    });
    // a 30 s interval: waiting it out between jobs would take two minutes for these five
    const slow = createJobQueue({ db: database.db, logger, pollingIntervalSeconds: 30 });
    try {
      await slow.start({ worker: true });
      await slow.register([drain]);
      for (let n = 0; n < 5; n++) await slow.send(drain, { n });
      await slow.work([drain]);
      await waitFor(() => runsOf('test.drain').length === 5, 'five queued jobs', 10_000);
      expect(runsOf('test.drain').map((r) => (r.data as { n: number }).n)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await slow.stop();
    }
  });
});

describe('a job on a cron schedule', () => {
  it('has its queue polled seldom, and its worker woken when the cron check sends it', async () => {
    const cronJob = (name: string, expression: string) =>
      defineJob({
        name,
        data: Type.Object({ by: Type.String() }),
        cron: { expression, data: { by: 'cron' } },
        handle(data, { attempt }) {
          record(name, data, attempt);
        },
      });
    // due half an hour from now: its cron check sends nothing during this test
    const later = cronJob('test.later', `${(new Date().getUTCMinutes() + 30) % 60} * * * *`);
    const minutely = cronJob('test.minutely', '* * * * *');
    // an idle worker of any other queue here looks every 0.5 s; the cron check runs every second
    const cron = createJobQueue({
      db: database.db,
      logger,
      pollingIntervalSeconds: 0.5,
      cronMonitorIntervalSeconds: 1,
    });
    try {
      await cron.start({ worker: true });
      await cron.register([later, minutely]);
      await cron.work([later, minutely]);
      // the worker's first look found nothing; a job sent in a transaction now waits for its next
      // poll, a minute away
      await database.db.transaction().execute(async (trx) => {
        await cron.send(later, { by: 'transaction' }, { transaction: trx });
      });
      await sleep(2_500);
      expect(runsOf('test.later')).toEqual([]);
      // one sent outside a transaction (committed, due now) wakes the worker, which takes both
      await cron.send(later, { by: 'hand' });
      await waitFor(() => runsOf('test.later').length === 2, 'the jobs sent by hand', 10_000);

      // the cron check sends the minute's job (from the 5th second of a minute on) and wakes the
      // worker at once, where polling alone would take up to a minute
      const started = Date.now();
      await waitFor(() => runsOf('test.minutely').length === 1, 'the cron job', 20_000);
      expect(runsOf('test.minutely')[0]?.data).toEqual({ by: 'cron' });
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await cron.stop();
    }
  });
});

describe('a worker with a backlog', () => {
  it('takes it in batches run side by side, and fails only the jobs of a batch that failed', async () => {
    let running = 0;
    let most = 0;
    const mixed = defineJob({
      name: 'test.batched',
      data: Type.Object({ n: Type.Integer(), fail: Type.Boolean() }),
      retry: { limit: 0, delaySeconds: 0, backoff: false },
      async handle(data, { attempt }) {
        record('test.batched', data, attempt);
        running++;
        most = Math.max(most, running);
        await new Promise((resolve) => setTimeout(resolve, 50));
        running--;
        if (data.fail) throw new Error(`job ${data.n} fails on purpose`);
      },
    });
    const batched = createJobQueue({ db: database.db, logger, pollingIntervalSeconds: 30, batchSize: 4 });
    try {
      await batched.start({ worker: true });
      await batched.register([mixed]);
      await batched.sendMany(
        mixed,
        Array.from({ length: 8 }, (_, n) => ({ data: { n, fail: n % 3 === 1 } })),
      );
      await batched.work([mixed]);
      const states = async () =>
        (
          await sql<{ n: number; state: string }>`
            select (data->>'n')::int as n, state::text from pgboss.job where name = 'test.batched' order by 1`.execute(
            database.db,
          )
        ).rows;
      await waitFor(
        async () => (await states()).every((r) => r.state === 'completed' || r.state === 'failed'),
        'eight jobs settled',
        10_000,
      );
      expect((await states()).map((r) => `${r.n}:${r.state}`)).toEqual([
        '0:completed',
        '1:failed',
        '2:completed',
        '3:completed',
        '4:failed',
        '5:completed',
        '6:completed',
        '7:failed',
      ]);
      // each job ran once, four at a time at most (the batch), more than one at a time at least
      expect(runsOf('test.batched')).toHaveLength(8);
      expect(most).toBeGreaterThan(1);
      expect(most).toBeLessThanOrEqual(4);
    } finally {
      await batched.stop();
    }
  });
});
