import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import { createDatabase, type Database } from '../db/database.js';
import { capturingLogger, waitFor } from '../messaging/test-support.js';
import { defineJob } from './job.js';
import { createJobQueue } from './job-queue.js';

const { logger } = capturingLogger('warn');

function reminderJob(seen: string[]) {
  return defineJob({
    name: 'test.remind',
    data: Type.Object({ note: Type.String() }),
    handle(data) {
      seen.push(data.note);
    },
  });
}

/**
 * Send a delayed job from one queue, stop it and close its database, then open the database
 * again with a new queue: the job must still run.
 */
async function survivesRestart(open: () => Promise<Database>): Promise<string[]> {
  const seen: string[] = [];
  const job = reminderJob(seen);

  const first = await open();
  const sender = createJobQueue({ db: first.db, logger });
  await sender.start({ worker: false });
  await sender.register([job]);
  await sender.send(job, { note: 'after restart' }, { delaySeconds: 1 });
  await sender.stop();
  await first.close();

  const second = await open();
  const worker = createJobQueue({ db: second.db, logger, pollingIntervalSeconds: 0.5 });
  try {
    await worker.start({ worker: true });
    await worker.register([job]);
    await worker.work([job]);
    await waitFor(() => seen.length > 0, 'the job sent before the restart');
  } finally {
    await worker.stop();
    await second.close();
  }
  return seen;
}

describe('a delayed job survives a restart', () => {
  it('on embedded PGlite (a data folder closed and opened again)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lectern-jobs-'));
    try {
      const seen = await survivesRestart(() => createDatabase({ pgliteDir: path.join(dir, 'pg') }));
      expect(seen).toEqual(['after restart']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'on PostgreSQL (every connection closed in between)',
    async () => {
      const url = process.env.DATABASE_URL!;
      const name = `lectern_test_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`create database ${name}`);
        const dbUrl = new URL(url);
        dbUrl.pathname = `/${name}`;
        const seen = await survivesRestart(() => createDatabase({ url: dbUrl.toString(), poolSize: 3 }));
        expect(seen).toEqual(['after restart']);
      } finally {
        await admin.query(`drop database if exists ${name} with (force)`);
        await admin.end();
      }
    },
    60_000,
  );
});

describe('stopping the queue', () => {
  it('waits for a running job to finish instead of abandoning it', async () => {
    const database = await freshDatabase();
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    const slow = defineJob({
      name: 'test.slow',
      data: Type.Object({}),
      async handle() {
        started();
        await released;
        finished = true;
      },
    });
    const queue = createJobQueue({
      db: database.db,
      logger,
      pollingIntervalSeconds: 0.5,
      shutdownTimeoutMs: 20_000,
    });
    try {
      await queue.start({ worker: true });
      await queue.register([slow]);
      await queue.work([slow]);
      const id = await queue.send(slow, {});
      await running;
      let stopped = false;
      const stopping = queue.stop().then(() => {
        stopped = true;
      });
      // the job is mid-run: stop must still be waiting for it
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(stopped).toBe(false);
      release();
      await stopping;
      expect(finished).toBe(true);
      const { rows } = await sql<{ state: string }>`select state from pgboss.job where id = ${id}`.execute(
        database.db,
      );
      expect(rows[0]?.state).toBe('completed');
    } finally {
      release();
      await queue.stop();
      await database.close();
    }
  }, 60_000);

  it.skipIf(!process.env.DATABASE_URL)(
    'waits for a fetch still on its way: the job it brings runs and is marked done before stop() returns',
    async () => {
      const database = await freshDatabase();
      const seen: string[] = [];
      const job = reminderJob(seen);
      const queue = createJobQueue({ db: database.db, logger, pollingIntervalSeconds: 0.5 });
      const url = new URL(process.env.DATABASE_URL ?? '');
      url.pathname = `/${database.testDatabaseName ?? ''}`;
      const locker = new pg.Client({ connectionString: url.toString() });
      await locker.connect();
      try {
        await queue.start({ worker: true });
        await queue.register([job]);
        await queue.send(job, { note: 'fetched during the stop' });
        // the worker's first fetch waits behind this lock, so it is on its way when stop() begins
        await locker.query('begin');
        await locker.query('lock table pgboss.job in access exclusive mode');
        await queue.work([job]);
        await waitFor(async () => {
          const waiting = await sql<{ n: number }>`
            select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`.execute(database.db);
          return (waiting.rows[0]?.n ?? 0) > 0;
        }, 'the fetch to wait for the lock');
        let stopped = false;
        const stopping = queue.stop().then(() => {
          stopped = true;
        });
        // pg-boss's own stop ends at once (no job is active yet); the queue's must not
        await new Promise((resolve) => setTimeout(resolve, 700));
        expect(stopped).toBe(false);
        await locker.query('commit');
        await stopping;
        expect(seen).toEqual(['fetched during the stop']);
        const jobs = await sql<{ state: string }>`
          select state from pgboss.job where name = 'test.remind'`.execute(database.db);
        expect(jobs.rows).toEqual([{ state: 'completed' }]);
      } finally {
        await locker.end();
        await queue.stop();
        await database.close();
      }
    },
    30_000,
  );
});
