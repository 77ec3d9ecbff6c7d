import type { Migration, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Cache } from './cache/cache.js';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { AuthGuard, Principal } from './http/auth.js';
import type { Idempotency } from './http/idempotency.js';
import type { JobDefinition } from './jobs/job.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { App } from './http/server.js';
import type { Mailer } from './mail/mailer.js';
import type { EnvelopeOf, EventDefinition, TypedSubscriber } from './messaging/events.js';
import type { DeliveryContext } from './messaging/inbox.js';
import type { EventBus, EventEnvelope } from './messaging/types.js';
import type { Metrics } from './observability/metrics.js';
import type { Storage } from './storage/storage.js';

/** Shared infrastructure a module factory may take from. Modules never reach for globals. */
export interface Platform {
  config: Config;
  logger: Logger;
  database: Database;
  cache: Cache;
  bus: EventBus;
  mailer: Mailer;
  storage: Storage;
  metrics: Metrics;
  /** Delayed and scheduled jobs (pg-boss in the platform's database); send from services. */
  jobs: JobQueue;
}

/** Route-time helpers handed to each module's routes. */
export interface HttpKit {
  auth: AuthGuard;
  idempotency: Idempotency;
}

/** An event handler of a module; runs in a transaction with the module's inbox row. */
export interface ModuleSubscriber {
  /** Durable consumer name, `<module>.<what it does>`. */
  consumer: string;
  types: string[];
  /** `context.afterCommit` defers effects outside the database (cache drops) past the commit. */
  handle(event: EventEnvelope, trx: Transaction<object>, context: DeliveryContext): Promise<void>;
  /** Optional: several new events in one transaction (see InboxSubscriber.handleBatch). */
  handleBatch?(events: EventEnvelope[], trx: Transaction<object>, context: DeliveryContext): Promise<void>;
  /** Most events per `handleBatch`. */
  batchSize?: number;
  /**
   * Where the consumer starts when JetStream first sees it (BusSubscription.deliverFrom): `new`
   * for a consumer with outside effects added after its events were published, so it does not
   * act on what the stream still retains; `all` (default) for copies, which want the history.
   */
  deliverFrom?: 'all' | 'new';
  /**
   * The definitions (imported from the publisher's `index.ts`) of the events it consumes; events
   * of another version or with data not matching the schema are dead-lettered, never handled.
   * Build such a subscriber with `eventSubscriber` to get `event.data` typed.
   */
  events?: readonly EventDefinition[];
}

/**
 * A subscriber to typed events: `handle` receives `event` narrowed by `event.type` to the data
 * type of that definition's schema, as `handleBatch` receives its events; a subscriber with
 * `handleBatch` alone handles one event as a batch of one.
 */
export function eventSubscriber<const Ds extends readonly EventDefinition[]>(
  subscriber: TypedSubscriber<Ds>,
): ModuleSubscriber {
  // subscriptionFor hands over only events that match one of `events`, so the typed handlers
  // never see another shape (the parameter types differ only by that narrowing)
  const { handle, handleBatch } = subscriber;
  const batch = handleBatch
    ? (events: EventEnvelope[], trx: Transaction<object>, context: DeliveryContext) =>
        handleBatch(events as EnvelopeOf<Ds[number]>[], trx, context)
    : undefined;
  return {
    consumer: subscriber.consumer,
    types: [...new Set(subscriber.events.map((d) => d.type))],
    events: subscriber.events,
    handle: handle
      ? (event, trx, context) => handle(event as EnvelopeOf<Ds[number]>, trx, context)
      : (event, trx, context) => handleBatch([event as EnvelopeOf<Ds[number]>], trx, context),
    ...(subscriber.batchSize ? { batchSize: subscriber.batchSize } : {}),
    ...(subscriber.deliverFrom ? { deliverFrom: subscriber.deliverFrom } : {}),
    ...(batch ? { handleBatch: batch } : {}),
  };
}

/** The request a bench scenario hammers. */
export interface BenchRequest {
  method?: 'GET' | 'POST' | 'PUT';
  /** The path, or the label of the pool when `paths` is given. */
  path: string;
  /** A pool sent one per request in turn, so a read the cache has never seen can be measured. */
  paths?: string[];
  headers?: Record<string, string>;
  body?: string;
  /**
   * A purchase flow in place of one request: each connection in turn creates an order for the
   * next buyer's course, starts a sandbox payment and pays it, so CHECKOUT_REQUESTS requests make
   * one checkout. One buyer per checkout (a learner cannot buy a course twice).
   */
  checkout?: { buyers: { authorization: string; courseId: string }[] };
  /**
   * Measured by `prepare` itself, inside the server (work that is not one HTTP request, such as
   * events driven through the bus): the harness sends no load and reports `count / seconds`.
   */
  measured?: { count: number; seconds: number; unit: string; note?: string };
  /**
   * Server-Sent Events: the harness opens `streamsPerUser` streams on `path` per authorization,
   * then asks the scenario to `act` `rounds` times (each act pushes one new item to every user
   * and answers `publishedAt`, epoch ms) and reports the delay from publish to each stream's receipt.
   */
  sse?: { authorizations: string[]; streamsPerUser: number; rounds: number };
  /**
   * The request is measured twice: alone, then while the scenario's `act` runs background work
   * (a fan-out); the table shows the second, with p99 against the first.
   */
  during?: { label: string };
}

/** What a scenario's `act` answers: figures of the work it did, by name (ms, counts). */
export type BenchActResult = Record<string, number>;

/** A bench scenario a module registers for `npm run bench`. */
export interface BenchScenario {
  name: string;
  /** Prepare data through the running app or database; returns the request to hammer. */
  prepare(ctx: { baseUrl: string }): Promise<BenchRequest>;
  /** For `sse` and `during` scenarios: the work the harness times, run when it asks (round 0, 1…). */
  act?(ctx: { baseUrl: string; round: number }): Promise<BenchActResult>;
}

/** What every module factory returns. */
export interface LecternModule {
  /** Module name; also its PostgreSQL schema. */
  name: string;
  migrations: Record<string, Migration>;
  /** Mounted under /api/v1. */
  routes?: (app: App, kit: HttpKit) => void | Promise<void>;
  /** Routes mounted at the root (e.g. /.well-known/jwks.json, /oauth/token). */
  rootRoutes?: (app: App, kit: HttpKit) => void | Promise<void>;
  subscribers?: ModuleSubscriber[];
  /** Delayed and cron jobs the module runs; `lectern worker` (or serve without --no-worker) runs them. */
  jobs?: JobDefinition[];
  /**
   * Runs on every verified access token, whichever module's route it reaches; throw an AppError
   * to refuse it (identity's deny-list of disabled users and revoked sessions). It may answer
   * without a promise when it needs no I/O (then the guard lets the request on without one).
   */
  checkToken?: (principal: Principal) => void | Promise<void>;
  /** Demo data; must be a no-op when the module already has data. */
  seed?: () => Promise<string[] | undefined>;
  bench?: BenchScenario[];
  close?: () => Promise<void>;
}
