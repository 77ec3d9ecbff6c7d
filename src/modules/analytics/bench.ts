// The analytics module's benchmarks. Two kinds:
// - `analyticsBench` (HTTP, found by `npm run bench` through the module's `bench`): the
//   ingestion route with a batch of 500 events re-sent, i.e. the de-duplication path a retrying
//   client takes.
// - `measureAnalyticsBatch` (run by `node --import tsx src/modules/analytics/bench.ts`): the
//   three issue 14 throughput goals on a scratch PostgreSQL database, each beside a plain COPY of
//   the same rows measured in the same run: ingestion in batches of 500, the refresh of one day
//   of 1,000,000 events, and the activity score of 1,000,000 users.
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { systemClock } from '../../platform/clock.js';
import type { BenchScenario } from '../../platform/module.js';
import { createAggregatesService } from './aggregates.service.js';
import { createIngestService } from './ingest.service.js';
import type { ClientEvent } from './ingest.schemas.js';
import { analyticsMigrations } from './migrations/index.js';
import { recomputeScores } from './scores.queries.js';
import type { AnalyticsTables } from './tables.js';

const BATCH = 500;

/** A batch of 500 client events of every kind, stamped a minute ago. */
function batchOf(prefix: string, at: Date): ClientEvent[] {
  const occurredAt = new Date(at.getTime() - 60_000).toISOString();
  const courseId = randomUUID();
  const lessonId = randomUUID();
  return Array.from({ length: BATCH }, (_, i): ClientEvent => {
    const id = `${prefix}-${i}`;
    switch (i % 5) {
      case 0:
        return { id, kind: 'page_view', occurredAt, path: `/courses?page=${i}` };
      case 1:
        return { id, kind: 'course_view', occurredAt, courseId };
      case 2:
        return {
          id,
          kind: 'lesson_pause',
          occurredAt,
          courseId,
          lessonId,
          positionSeconds: i,
          watchedSeconds: 30,
        };
      case 3:
        return { id, kind: 'search', occurredAt, query: `term ${i % 17}`, resultCount: i % 3 };
      default:
        return { id, kind: 'share', occurredAt, courseId, channel: 'link' };
    }
  });
}

export function analyticsBench(): BenchScenario[] {
  return [
    {
      name: 'analytics ingest, 500-event batch re-sent (de-duplication path)',
      async prepare({ baseUrl }) {
        const headers = { 'content-type': 'application/json', 'x-client-id': `bench-${randomUUID()}` };
        const body = JSON.stringify({ events: batchOf('bench', new Date()) });
        const first = await fetch(`${baseUrl}/api/v1/analytics/events`, { method: 'POST', headers, body });
        if (first.status !== 202) throw new Error(`ingest answered ${first.status}: ${await first.text()}`);
        return { method: 'POST', path: '/api/v1/analytics/events', headers, body };
      },
    },
  ];
}

export interface BatchFigure {
  what: string;
  rows: number;
  seconds: number;
  /** Rows per second of the scenario. */
  rate: number;
  /** The same rows by a plain COPY into an unindexed table, in the same run. */
  copySeconds: number;
  copyRate: number;
  /** Scenario rate / COPY rate (1 = as fast as COPY). */
  ratio: number;
  loadAverage: number[];
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function scratchDatabase(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `lectern_bench_analytics_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const scratch = new URL(url);
  scratch.pathname = `/${name}`;
  return {
    url: scratch.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** COPY the rows a query selects into a fresh unindexed table of the same shape; resolves seconds. */
async function copyBaseline(pool: pg.Pool, query: string, shape: string): Promise<number> {
  const out = await pool.connect();
  const into = await pool.connect();
  try {
    await into.query(
      `drop table if exists bench_copy; create unlogged table bench_copy as ${shape} with no data`,
    );
    // an unlogged target would flatter COPY; the baseline is a logged table like ours
    await into.query('alter table bench_copy set logged');
    const start = process.hrtime.bigint();
    await pipeline(
      out.query(copyTo(`copy (${query}) to stdout`)),
      into.query(copyFrom('copy bench_copy from stdin')),
    );
    return seconds(start);
  } finally {
    out.release();
    into.release();
  }
}

/**
 * Measure the three goals on a scratch database made on the server of `databaseUrl` (dropped
 * afterwards). Sizes default to the issue's: 1,000,000 events in a day, 1,000,000 users.
 */
export async function measureAnalyticsBatch(
  databaseUrl: string,
  sizes: { ingestEvents?: number; dayEvents?: number; users?: number; concurrency?: number } = {},
): Promise<BatchFigure[]> {
  const ingestEvents = sizes.ingestEvents ?? 100_000;
  const dayEvents = sizes.dayEvents ?? 1_000_000;
  const users = sizes.users ?? 1_000_000;
  const concurrency = sizes.concurrency ?? 4;
  const scratch = await scratchDatabase(databaseUrl);
  const pool = new pg.Pool({ connectionString: scratch.url, max: concurrency + 2 });
  const db = new Kysely<AnalyticsTables>({ dialect: new PostgresDialect({ pool }) });
  const figures: BatchFigure[] = [];
  const figure = (what: string, rows: number, s: number, copySeconds: number) => {
    const f: BatchFigure = {
      what,
      rows,
      seconds: s,
      rate: rows / s,
      copySeconds,
      copyRate: rows / copySeconds,
      ratio: rows / s / (rows / copySeconds),
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    };
    figures.push(f);
    process.stderr.write(
      `${what}: ${rows} rows in ${s.toFixed(2)} s (${Math.round(f.rate)}/s); COPY ${copySeconds.toFixed(2)} s ` +
        `(${Math.round(f.copyRate)}/s); ratio ${f.ratio.toFixed(3)}; load ${f.loadAverage.join(' ')}\n`,
    );
  };
  try {
    await sql`create schema analytics`.execute(db);
    for (const migration of Object.values(analyticsMigrations)) await migration.up(db);

    // 1. ingestion: the route's service path (keys, rows, dirty days in one transaction per batch)
    const ingest = createIngestService({ db, clock: systemClock, acceptPastDays: 7 });
    const batches = Math.ceil(ingestEvents / BATCH);
    const senders = Array.from({ length: concurrency }, () => randomUUID());
    const now = new Date();
    const prepared = Array.from({ length: batches }, (_, b) => batchOf(`b${b}`, now));
    let next = 0;
    const start = process.hrtime.bigint();
    await Promise.all(
      senders.map(async (userId) => {
        for (let b = next++; b < batches; b = next++) {
          await ingest.ingest({ userId }, prepared[b] as ClientEvent[]);
        }
      }),
    );
    const ingestSeconds = seconds(start);
    const ingestCopy = await copyBaseline(
      pool,
      'select * from analytics.events',
      'select * from analytics.events',
    );
    figure(`ingest, batches of ${BATCH}, ${concurrency} clients`, batches * BATCH, ingestSeconds, ingestCopy);

    // 2. one day of events, made in SQL, then the refresh of that day
    const day = '2026-01-15';
    await sql`
      insert into analytics.events
        (occurred_at, received_at, kind, source, actor, user_id, client_id, course_id, lesson_id, event_key, props)
      select ${day}::timestamptz + (i % 86400) * interval '1 second', now(), k.kind,
             case when k.kind = 'order_paid' then 'domain' else 'client' end,
             u::text, u, null, c, case when k.kind like 'lesson%' then c else null end, 'd' || i,
             case k.kind
               when 'page_view' then jsonb_build_object('path', '/p/' || (i % 100))
               when 'lesson_pause' then jsonb_build_object('positionSeconds', 60, 'watchedSeconds', 60)
               when 'search' then jsonb_build_object('query', 'term ' || (i % 500), 'resultCount', i % 4)
               when 'share' then jsonb_build_object('channel', 'link')
               when 'order_paid' then jsonb_build_object(
                 'orderId', md5('o' || i)::uuid, 'currency', 'CNY', 'total', 9900,
                 'lines', jsonb_build_array(jsonb_build_object('courseId', c, 'amount', 9900,
                   'instructorIds', jsonb_build_array(md5('t' || (i % 200))::uuid))))
               else '{}'::jsonb end
      from generate_series(1, ${dayEvents}) as i
      cross join lateral (select md5('u' || (i % 50000))::uuid as u, md5('c' || (i % 1000))::uuid as c) ids
      cross join lateral (select (array['page_view', 'page_view', 'course_view', 'course_view', 'lesson_pause',
                                        'lesson_pause', 'search', 'share', 'lesson_complete', 'order_paid'])[1 + i % 10] as kind) k`.execute(
      db,
    );
    await sql`insert into analytics.dirty_days (day) values (${day}::date) on conflict do nothing`.execute(
      db,
    );
    await sql`vacuum analyze analytics.events`.execute(db);
    const aggregates = createAggregatesService({ db, clock: systemClock });
    const refreshStart = process.hrtime.bigint();
    const refreshed = await aggregates.refresh();
    const refreshSeconds = seconds(refreshStart);
    if (!refreshed.includes(day)) throw new Error(`the refresh did not take ${day}`);
    const dayQuery = `select * from analytics.events where occurred_at >= '${day}' and occurred_at < '${day}'::date + 1`;
    const dayCopy = await copyBaseline(pool, dayQuery, 'select * from analytics.events');
    figure(`aggregate refresh of one day`, dayEvents, refreshSeconds, dayCopy);

    // 3. activity score: every user active 3 days of the window, learning and interacting
    await sql`
      insert into analytics.daily_actives (day, actor, user_id)
      select d, u::text, u from generate_series(1, ${users}) as i
      cross join lateral (select md5('s' || i)::uuid as u) x
      cross join lateral (select ('2026-02-27'::date - (i + n * 7) % 30) as d from generate_series(0, 2) n) days`.execute(
      db,
    );
    await sql`
      insert into analytics.daily_user_activity (day, user_id, learning_seconds, interactions)
      select day, user_id, (abs(hashtext(actor)) % 3600), (abs(hashtext(actor)) % 5) from analytics.daily_actives
      where user_id is not null and day between '2026-01-29' and '2026-02-27'`.execute(db);
    await sql`vacuum analyze analytics.daily_actives`.execute(db);
    await sql`vacuum analyze analytics.daily_user_activity`.execute(db);
    const scoreStart = process.hrtime.bigint();
    const scored = await db
      .transaction()
      .execute((trx) =>
        recomputeScores(trx, '2026-02-27', { windowDays: 30, minutesCap: 600, interactionsCap: 20 }),
      );
    const scoreSeconds = seconds(scoreStart);
    const scoreCopy = await copyBaseline(
      pool,
      'select * from analytics.scores',
      'select * from analytics.scores',
    );
    figure(`activity score and ranking`, scored, scoreSeconds, scoreCopy);
    return figures;
  } finally {
    await db.destroy();
    await scratch.drop();
  }
}

// run directly: node --import tsx src/modules/analytics/bench.ts [ingestEvents] [dayEvents] [users] [clients]
if (process.argv[1]?.endsWith('analytics/bench.ts')) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL must name a PostgreSQL server (a scratch database is made there)\n');
    process.exit(2);
  }
  const [ingestEvents, dayEvents, users, concurrency] = process.argv.slice(2).map(Number);
  measureAnalyticsBatch(url, { ingestEvents, dayEvents, users, concurrency })
    .then(async (figures) => {
      // the goals live with the other bench goals; imported here only when run as a script
      const { checkAnalyticsGoals } = await import('../../../bench/goals.js');
      for (const g of checkAnalyticsGoals(figures)) {
        process.stderr.write(
          `${g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS'}  ${g.goal}: ${g.measured}\n`,
        );
      }
      process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    });
}
