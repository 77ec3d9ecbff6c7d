import { setTimeout as sleep } from 'node:timers/promises';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { Static, TSchema } from 'typebox';
import { Value } from 'typebox/value';
import type { Metrics } from '../observability/metrics.js';
import { type CronMatcher, cronMatcher } from './cron.js';
import { defaultRetry, type JobDefinition } from './job.js';

/** deadlock, serialization failure, unique violation, duplicate table or object */
const RACE_CODES = new Set(['40P01', '40001', '23505', '42P07', '42710']);

const DEFAULT_CRON_CHECK_SECONDS = 10;
const DEFAULT_BATCH_SIZE = 10;
/**
 * A minute's cron jobs are sent only between these many seconds after its start and before its
 * end, by the database's clock: every worker's send for that minute then falls in the same one of
 * pg-boss's 60-second singleton slots, which the database keeps to one job, however far apart the
 * workers' ticks or clocks are (within the margin).
 */
const CRON_SLOT_MARGIN_SECONDS = 5;
/**
 * How often an idle worker looks in the queue of a job on a cron schedule. The cron check sends
 * such jobs, and it wakes the worker of this process that runs them as it sends (even a send
 * another worker's check made first), as `send` does for a job sent by hand outside a transaction:
 * polled at the usual interval, the platform's dozen or so cron queues cost the database a planned
 * fetch each every couple of seconds for jobs that come once a minute at most. The poll stays for
 * a job sent while no worker here ran its queue, one sent in a transaction, and retries.
 */
const CRON_QUEUE_POLL_SECONDS = 60;

export interface SendOptions<DB = object> {
  /** Run no earlier than this moment. */
  startAfter?: Date;
  /** Run no earlier than this many seconds from now (ignored when startAfter is given). */
  delaySeconds?: number;
  /** With a `uniqueByKey` job: drop this send when a job with the key is still waiting. */
  singletonKey?: string;
  /**
   * The caller's transaction: the job exists exactly when that transaction commits. Always pass
   * it when sending from inside one (on PGlite a send outside it would wait for the only connection).
   */
  transaction?: Kysely<DB>;
}

export interface JobQueueOptions {
  db: Kysely<object>;
  logger: Logger;
  /** Counts runs as `lectern_job_runs_total{job, outcome}` (completed, retried, failed). */
  metrics?: Metrics;
  /** PostgreSQL schema pg-boss creates and migrates at start. */
  schema?: string;
  /** How often an idle worker looks for due jobs (pg-boss allows 0.5 s at least). */
  pollingIntervalSeconds?: number;
  /** How often each worker checks the cron schedules, in seconds (default 10, at most 45). */
  cronMonitorIntervalSeconds?: number;
  /** How long stop() waits for running jobs before failing them back to the queue (retried later). */
  shutdownTimeoutMs?: number;
  /** Jobs of one queue a worker fetches at once and runs side by side (default 10; 1: one at a time). */
  batchSize?: number;
}

export interface JobQueue {
  /**
   * Create or migrate the queue schema and connect. With `worker`, this process also evaluates the
   * cron schedules and runs pg-boss maintenance (expiry, archiving); without it, it only sends.
   */
  start(options: { worker: boolean }): Promise<void>;
  /** Declare jobs: their queues with their retry policy, and their cron schedules. */
  register(jobs: JobDefinition[]): Promise<void>;
  /** Run these jobs' handlers in this process (after start({ worker: true }) and register). */
  work(jobs: JobDefinition[]): Promise<void>;
  /** Queue a job; resolves its id, or null when a `uniqueByKey` job with the same key is waiting. */
  send<S extends TSchema, DB = object>(
    job: JobDefinition<S> | string,
    data: Static<S>,
    options?: SendOptions<DB>,
  ): Promise<string | null>;
  /**
   * Queue several jobs of one definition in one statement (pg-boss's multi-row insert), each with
   * its data and optional start: what a batch of events creating many jobs sends instead of one
   * insert per job. Each item's data is checked as `send` checks it, before anything is written.
   * Not for `uniqueByKey` jobs (no singleton keys here); resolves nothing.
   */
  sendMany<S extends TSchema, DB = object>(
    job: JobDefinition<S>,
    items: readonly { data: Static<S>; startAfter?: Date | undefined }[],
    options?: Pick<SendOptions<DB>, 'transaction'>,
  ): Promise<void>;
  /** Stop taking jobs, wait for running ones (up to the shutdown timeout), disconnect. Idempotent. */
  stop(): Promise<void>;
  /** For the start-up log. */
  describe(): string;
}

type Executor = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

/** pg-boss's SQL inside the caller's transaction: a failure is the caller's to roll back. */
function executorOf(db: Kysely<object>): Executor {
  return {
    async executeSql(text, values) {
      const result = await db.executeQuery(CompiledQuery.raw(text, values ?? []));
      return { rows: result.rows };
    },
  };
}

/** pg-boss's option that makes a send part of the caller's transaction, when there is one. */
function inTransactionOf<DB>(transaction: Kysely<DB> | undefined): { db?: Executor } {
  return transaction ? { db: executorOf(transaction as unknown as Kysely<object>) } : {};
}

/**
 * pg-boss runs its SQL through the platform's Kysely: one pool (one connection on PGlite) for all.
 * Some of its statements are scripts that open their own transaction (`BEGIN; …; COMMIT`); when
 * one fails, for instance on losing a creation race to another instance, the server leaves that
 * connection inside the aborted transaction, and the pool would hand it to the next query. So a
 * failed statement is followed by a ROLLBACK on the same connection (a no-op outside a transaction).
 */
function poolExecutorOf(db: Kysely<object>, inFlight: Set<Promise<unknown>>): Executor {
  return {
    executeSql(text, values) {
      const statement = db.connection().execute(async (connection) => {
        try {
          const result = await connection.executeQuery(CompiledQuery.raw(text, values ?? []));
          return { rows: result.rows };
        } catch (err) {
          await connection.executeQuery(CompiledQuery.raw('rollback')).catch(() => undefined);
          throw err;
        }
      });
      inFlight.add(statement);
      void statement.finally(() => inFlight.delete(statement)).catch(() => undefined);
      return statement;
    },
  };
}

class JobDataError extends Error {
  constructor(name: string, data: unknown, schema: TSchema) {
    const problems = Value.Errors(schema, data)
      .slice(0, 5)
      .map((e) => `${e.instancePath || '/'} ${e.message}`);
    super(`job ${name}: data does not match its schema: ${problems.join('; ')}`);
    this.name = 'JobDataError';
  }
}

/**
 * A PostgreSQL job queue on pg-boss 10 (the last major that runs on Node 20), in the platform's
 * own database: delayed jobs, cron schedules that fire once across all workers, retries with
 * backoff. It works on PGlite too, because pg-boss takes an `executeSql` adapter instead of a pool.
 */
export function createJobQueue(options: JobQueueOptions): JobQueue {
  const schema = options.schema ?? 'pgboss';
  const log = options.logger.child({ component: 'jobs' });
  const definitions = new Map<string, JobDefinition>();
  let boss: PgBoss | undefined;
  let worker = false;
  let starting: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  // pg-boss's statements and the handlers it started, so that stop() can wait for the last ones
  const inFlight = new Set<Promise<unknown>>();
  const runs = options.metrics?.counter('lectern_job_runs_total', 'Job runs by job name and outcome', [
    'job',
    'outcome',
  ]);

  function started(): PgBoss {
    if (!boss) throw new Error('the job queue is not started');
    return boss;
  }

  /** One job's run; resolves its error when it failed (logged and counted here), else nothing. */
  async function run(definition: JobDefinition, job: PgBoss.JobWithMetadata): Promise<Error | undefined> {
    const attempt = job.retryCount + 1;
    const logger = log.child({ job: definition.name, jobId: job.id, attempt });
    try {
      if (!Value.Check(definition.data, job.data))
        throw new JobDataError(definition.name, job.data, definition.data);
      await definition.handle(job.data, { id: job.id, attempt, logger });
      runs?.inc({ job: definition.name, outcome: 'completed' });
      return undefined;
    } catch (err) {
      const final = attempt > job.retryLimit;
      runs?.inc({ job: definition.name, outcome: final ? 'failed' : 'retried' });
      logger.error({ err }, final ? 'job failed; no retries left' : 'job failed; will retry');
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  /**
   * A fetched batch's jobs, run side by side (instances of a worker already run one queue's jobs
   * at once, so handlers are written for it). A failed job is failed on its own, which schedules
   * its retry; pg-boss then completes the batch's jobs still active, so the others are done. If
   * recording a failure fails, the whole batch is failed back (each retried: at least once, never
   * a failure taken for a success).
   */
  async function runBatch(
    b: PgBoss,
    definition: JobDefinition,
    jobs: PgBoss.JobWithMetadata[],
  ): Promise<void> {
    // started oldest first: the order one job per fetch would have run them in (a batch comes unordered)
    const oldestFirst = [...jobs].sort((x, y) => +new Date(x.createdOn) - +new Date(y.createdOn));
    const running = Promise.all(
      oldestFirst.map(async (job) => {
        const err = await run(definition, job);
        if (err) await b.fail(definition.name, job.id, err);
      }),
    );
    inFlight.add(running);
    await running.finally(() => inFlight.delete(running));
  }

  /**
   * Instances that start together create the schema and register the same queues at once;
   * creating a queue is DDL (a partition of the job table), and two of those can deadlock or
   * collide on a name. The loser tries again: the statements are idempotent, so a second run
   * finds the queue made.
   */
  async function retryOnRace(step: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await step();
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (attempt >= 5 || typeof code !== 'string' || !RACE_CODES.has(code)) throw err;
        log.warn({ code, attempt }, 'job queue registration raced another instance; trying again');
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
      }
    }
  }

  /** pg-boss's worker id of each job this process runs, by job name (to wake it). */
  const workerIds = new Map<string, string>();
  const matchers = new Map<string, CronMatcher | Error>();
  /** The minute each schedule was last sent for by this process (one send per minute and schedule). */
  const sentFor = new Map<string, number>();
  let cronTimer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;

  /**
   * Send the jobs whose schedule names the current minute, as pg-boss's cron does, to a singleton
   * slot of that minute, so that across all workers each runs once. The schedules are read from
   * pg-boss's table each time: a process that registered a schedule need not be the one firing it.
   */
  async function cronTick(b: PgBoss): Promise<void> {
    // the database's clock: the one pg-boss computes the singleton slot with
    const { rows } = await sql<{
      now_ms: string;
    }>`select (extract(epoch from now()) * 1000)::bigint::text as now_ms`.execute(options.db);
    const now = Number(rows[0]?.now_ms);
    const second = Math.floor(now / 1000) % 60;
    if (!(second >= CRON_SLOT_MARGIN_SECONDS && second < 60 - CRON_SLOT_MARGIN_SECONDS)) return;
    const minute = Math.floor(now / 60_000);
    const at = new Date(minute * 60_000);
    for (const schedule of await b.getSchedules()) {
      if (sentFor.get(schedule.name) === minute) continue;
      let matcher = matchers.get(schedule.cron);
      if (!matcher) {
        matcher = cronMatcher(schedule.cron);
        matchers.set(schedule.cron, matcher);
        if (matcher instanceof Error)
          log.error({ err: matcher, job: schedule.name }, 'cron schedule skipped');
      }
      if (matcher instanceof Error || !matcher(at)) continue;
      await b.send(schedule.name, schedule.data ?? {}, {
        ...schedule.options,
        singletonKey: 'cron',
        singletonSeconds: 60,
      });
      sentFor.set(schedule.name, minute);
      // sent now or by another worker's check before: either way the job waits (see CRON_QUEUE_POLL_SECONDS)
      const local = workerIds.get(schedule.name);
      if (local) b.notifyWorker(local);
    }
  }

  /** pg-boss's polling option for a job's worker: its own interval for a cron job's queue. */
  function pollingOf(job: JobDefinition): { pollingIntervalSeconds?: number } {
    if (job.cron) {
      return {
        pollingIntervalSeconds: Math.max(CRON_QUEUE_POLL_SECONDS, options.pollingIntervalSeconds ?? 0),
      };
    }
    return options.pollingIntervalSeconds ? { pollingIntervalSeconds: options.pollingIntervalSeconds } : {};
  }

  function startCron(b: PgBoss): void {
    const seconds = Math.min(45, options.cronMonitorIntervalSeconds ?? DEFAULT_CRON_CHECK_SECONDS);
    cronTimer = setInterval(() => {
      // a slow tick is not run over by the next one
      ticking ??= cronTick(b)
        .catch((err: unknown) => {
          log.error({ err }, 'cron check failed');
        })
        .finally(() => {
          ticking = undefined;
        });
    }, seconds * 1000);
    // the queue's own connections keep a worker up; this timer alone must not
    cronTimer.unref();
  }

  return {
    start(startOptions) {
      // one start however often it is asked for: the app begins it early, beside the migrations,
      // and awaits the same start before it registers the jobs
      starting ??= (async () => {
        worker = startOptions.worker;
        const db = poolExecutorOf(options.db, inFlight);
        // Instances that start together on a new database all create pg-boss's schema; its own
        // creation script serialises them only after CREATE SCHEMA, which can collide. Made here
        // first (retried on that collision), the schema is there when the script runs.
        await retryOnRace(async () => {
          await db.executeSql(`create schema if not exists "${schema.replaceAll('"', '""')}"`);
        });
        let instance: PgBoss | undefined;
        await retryOnRace(async () => {
          instance = new PgBoss({
            db,
            schema,
            // the schedules stay in pg-boss's table (register), but this queue fires them (cronTick)
            schedule: false,
            supervise: worker,
          });
          // an unhandled 'error' event would crash the process; pg-boss reports and carries on
          instance.on('error', (err) => {
            log.error({ err }, 'job queue error');
          });
          await instance.start();
        });
        boss = instance;
        if (worker && boss) startCron(boss);
      })().catch((err: unknown) => {
        // a failed start may be tried again
        starting = undefined;
        throw err;
      });
      return starting;
    },

    async register(jobs) {
      const b = started();
      for (const job of jobs) {
        definitions.set(job.name, job);
        const retry = job.retry ?? defaultRetry;
        const queue: PgBoss.Queue = {
          name: job.name,
          policy: job.uniqueByKey ? 'short' : 'standard',
          retryLimit: retry.limit,
          retryDelay: retry.delaySeconds,
          retryBackoff: retry.backoff,
          ...(job.expireInSeconds ? { expireInSeconds: job.expireInSeconds } : {}),
        };
        await retryOnRace(async () => {
          // createQueue leaves an existing queue as it is; update it so a changed policy applies
          await b.createQueue(job.name, queue);
          await b.updateQueue(job.name, queue);
          if (job.cron) {
            await b.schedule(job.name, job.cron.expression, job.cron.data as object, { tz: 'UTC' });
          } else {
            // a job that lost its cron line must stop firing
            await b.unschedule(job.name);
          }
        });
      }
    },

    async work(jobs) {
      const b = started();
      if (!worker) throw new Error('this job queue was started without a worker');
      for (const definition of jobs) {
        const worker: { id?: string } = {};
        worker.id = await b.work<object>(
          definition.name,
          {
            // a backlog is taken a batch a fetch: one fetch and one completion for up to this many
            batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
            includeMetadata: true,
            ...pollingOf(definition),
          },
          async (jobs) => {
            if (jobs.length === 0) return;
            await runBatch(b, definition, jobs);
            // pg-boss waits out the polling interval after every fetch, even one that found a
            // job: one batch per interval (0.5/s by default) per queue. A worker that just ran a
            // batch looks again at once; only an idle one waits.
            if (worker.id) b.notifyWorker(worker.id);
          },
        );
        workerIds.set(definition.name, worker.id);
      }
      log.info({ jobs: jobs.map((j) => j.name) }, 'job worker running');
    },

    async send(job, data, sendOptions = {}) {
      const b = started();
      const name = typeof job === 'string' ? job : job.name;
      const definition = typeof job === 'string' ? definitions.get(name) : job;
      if (definition && !Value.Check(definition.data, data))
        throw new JobDataError(name, data, definition.data);
      const startAfter =
        sendOptions.startAfter ??
        (sendOptions.delaySeconds ? new Date(Date.now() + sendOptions.delaySeconds * 1000) : undefined);
      const id = await b.send(name, data as object, {
        ...(startAfter ? { startAfter } : {}),
        ...(sendOptions.singletonKey ? { singletonKey: sendOptions.singletonKey } : {}),
        ...inTransactionOf(sendOptions.transaction),
      });
      // due now and committed already: this process's worker of the queue need not wait for its poll
      // (a cron job's queue is polled once a minute); a job sent in a transaction is seen at the poll
      const local = workerIds.get(name);
      if (id && local && !startAfter && !sendOptions.transaction) b.notifyWorker(local);
      return id;
    },

    async sendMany(job, items, sendOptions = {}) {
      const b = started();
      if (job.uniqueByKey) throw new Error(`job ${job.name}: sendMany takes no singleton keys`);
      for (const item of items) {
        if (!Value.Check(job.data, item.data)) throw new JobDataError(job.name, item.data, job.data);
      }
      if (items.length === 0) return;
      await b.insert(
        items.map((item) => ({
          name: job.name,
          data: item.data as object,
          ...(item.startAfter ? { startAfter: item.startAfter } : {}),
        })),
        inTransactionOf(sendOptions.transaction),
      );
    },

    stop() {
      stopping ??= (async () => {
        // a start still under way would leave pg-boss running after this stop
        await starting?.catch(() => undefined);
        clearInterval(cronTimer);
        await ticking;
        if (!boss) return;
        const timeout = options.shutdownTimeoutMs ?? 10_000;
        const deadline = Date.now() + timeout;
        // pg-boss waits for running jobs up to the timeout, then fails them back to the queue
        await boss.stop({ graceful: true, wait: true, close: false, timeout });
        // but not for a fetch still on its way: one that returns after the stop hands its job to the
        // handler all the same, and pg-boss then marks it done or failed without awaiting that
        // statement, which would meet a closed database (an unhandled rejection) once the caller
        // closes it. So wait until every statement and handler pg-boss began has ended, a turn of
        // the event loop after each round so that a returned fetch can start its handler.
        while (inFlight.size > 0 && Date.now() < deadline) {
          // an unref'd timer: a stop that has nothing left to wait for does not keep the process up
          await Promise.race([
            Promise.allSettled([...inFlight]),
            sleep(Math.max(0, deadline - Date.now()), undefined, { ref: false }),
          ]);
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      return stopping;
    },

    describe() {
      return `pg-boss in schema ${schema}${boss ? (worker ? ' (worker)' : ' (send only)') : ''}`;
    },
  };
}
