import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db/database.js';
import { defineJob } from '../../src/platform/jobs/job.js';
import { createJobQueue, type JobQueue } from '../../src/platform/jobs/job-queue.js';
import { capturingLogger, waitFor } from '../../src/platform/messaging/test-support.js';
import { tickJob } from './tick-job.js';

const serverUrl = process.env.DATABASE_URL;
const workerEntry = fileURLToPath(new URL('./cron-worker.ts', import.meta.url));

let name: string;
let dbUrl: string;
let database: Database;
let scheduler: JobQueue;
const workers: ChildProcess[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', workerEntry], {
    env: { ...process.env, DATABASE_URL: dbUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workers.push(child);
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => {
      reject(new Error(`worker exited with ${code} before it was ready`));
    });
  });
}

const ticks = async () =>
  (await sql<{ pid: number; label: string }>`select pid, label from public.ticks`.execute(database.db)).rows;

describe.skipIf(!serverUrl)('cron across two worker processes on one PostgreSQL database', () => {
  beforeAll(async () => {
    name = `lectern_test_${randomBytes(6).toString('hex')}`;
    await admin((c) => c.query(`create database ${name}`));
    const u = new URL(serverUrl!);
    u.pathname = `/${name}`;
    dbUrl = u.toString();
    database = await createDatabase({ url: dbUrl, poolSize: 2 });
    await sql`create table public.ticks (pid integer not null, label text not null, at timestamptz not null default now())`.execute(
      database.db,
    );
    // installs the pgboss schema once, so the two workers do not race to create it
    scheduler = createJobQueue({ db: database.db, logger: capturingLogger('warn').logger });
    await scheduler.start({ worker: false });
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await scheduler.stop();
    await database.close();
    await admin((c) => c.query(`drop database if exists ${name} with (force)`));
  });

  it('runs each tick once, whichever worker takes it, and both stop cleanly', async () => {
    await Promise.all([startWorker(), startWorker()]);

    // a every-minute schedule fires for the minute it is created in; keep the whole check inside
    // one minute so exactly one tick is due
    if (new Date().getUTCSeconds() > 40) await sleep((61 - new Date().getUTCSeconds()) * 1000);
    const minute = new Date().getUTCMinutes();
    await scheduler.register([
      defineJob({ ...tickJob, cron: { expression: '* * * * *', data: { label: 'every minute' } } }),
    ]);

    await waitFor(async () => (await ticks()).length > 0, 'the first tick', 15_000);
    // both workers check the schedule every second: give each several chances to run it again
    await sleep(5000);
    expect(new Date().getUTCMinutes()).toBe(minute);
    const rows = await ticks();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.label).toBe('every minute');
    expect(workers.map((w) => w.pid)).toContain(rows[0]?.pid);

    for (const w of workers) w.kill('SIGTERM');
    const codes = await Promise.all(
      workers.map(async (w) => (w.exitCode ?? (await once(w, 'exit'))[0]) as number),
    );
    expect(codes).toEqual([0, 0]);
  }, 120_000);
});
