import Fastify from 'fastify';
import { migrateAll } from './platform/db/migrations.js';
import {
  createAuthGuard,
  createTokenVerifier,
  type KeySource,
  type Principal,
} from './platform/http/auth.js';
import { createIdempotency, type Idempotency, idempotencyMigrations } from './platform/http/idempotency.js';
import { registerRawBody } from './platform/http/raw-body.js';
import { type App, createHttpServer } from './platform/http/server.js';
import { housekeepingJobs } from './platform/jobs/housekeeping.jobs.js';
import { createDeadLetterAdmin } from './platform/messaging/dead-letters.admin.js';
import { deadLettersMigration } from './platform/messaging/dead-letters.js';
import { deadLetterRoutes } from './platform/messaging/dead-letters.routes.js';
import { subscriptionFor } from './platform/messaging/inbox.js';
import { createOutboxRelay, type OutboxRelay } from './platform/messaging/relay.js';
import type { HttpKit, LecternModule, Platform } from './platform/module.js';

export interface AppOptions {
  /** Where access-token keys come from: the identity module in-process, or a JWKS URL. */
  keys: KeySource | URL;
  /** Run the outbox relay, event consumers and job handlers in this process (the embedded default). */
  worker?: boolean;
  /**
   * Run job handlers and cron schedules here; `worker` unless set. Off with the worker on, events
   * still flow and jobs wait to be run by hand: tests that drive each job themselves need no
   * worker of the app's racing them.
   */
  jobs?: boolean;
}

/** A route this app serves, and who registered it: a module's name, or `platform`. */
export interface ServedRoute {
  owner: string;
  method: string;
  url: string;
}

export interface LecternApp {
  app: App;
  /**
   * Every route of the modules (and the platform's dead-letter admin), by owner; the gateway
   * route map is checked against it (src/gateway.ts). The probes, /metrics and the docs are not listed.
   */
  routes: ServedRoute[];
  kit: HttpKit;
  relay: OutboxRelay;
  /** Stop taking requests, finish in-flight ones, stop the worker, close modules. */
  close(): Promise<void>;
}

/** Apply every pending migration of the platform and of these modules. */
export async function migrate(platform: Platform, modules: LecternModule[]): Promise<string[]> {
  const applied = await migrateAll(platform.database.db, [
    platformMigrations,
    ...modules.map((m) => ({ schema: m.name, migrations: m.migrations })),
  ]);
  if (applied.length > 0) platform.logger.info({ applied }, 'migrations applied');
  return applied;
}

/** Subscribe the modules' event handlers and start publishing their outboxes. */
export async function startWorker(
  platform: Platform,
  modules: LecternModule[],
  relay: OutboxRelay,
): Promise<void> {
  for (const module of modules) {
    for (const subscriber of module.subscribers ?? []) {
      await platform.bus.subscribe(
        subscriptionFor(platform.database.db, module.name, subscriber, { logger: platform.logger }),
      );
    }
  }
  relay.start();
}

/**
 * Declare every job (the platform's housekeeping and the modules' own) and, when this process is a
 * worker, run their handlers and the cron schedules here. Call after migrate(). Without
 * `idempotency` (a worker has no HTTP server) the purge gets one on a bare Fastify instance:
 * createIdempotency only adds a hook to the instance it is handed.
 */
export async function startJobs(
  platform: Platform,
  modules: LecternModule[],
  options: { worker: boolean; idempotency?: Idempotency },
): Promise<void> {
  const idempotency = options.idempotency ?? createIdempotency(Fastify(), platform.database.db);
  const jobs = [
    ...housekeepingJobs({
      db: platform.database.db,
      schemas: modules.map((m) => m.name),
      messagingRetentionDays: platform.config.messagingRetentionDays,
      purgeIdempotencyKeys: () => idempotency.purgeExpired(),
    }),
    ...modules.flatMap((m) => m.jobs ?? []),
  ];
  await platform.jobs.start({ worker: options.worker });
  await platform.jobs.register(jobs);
  if (options.worker) await platform.jobs.work(jobs);
}

export function createRelay(platform: Platform, modules: LecternModule[]): OutboxRelay {
  return createOutboxRelay({
    db: platform.database.db,
    bus: platform.bus,
    schemas: modules.map((m) => m.name),
    pollMs: platform.config.outboxPollMs,
    logger: platform.logger,
  });
}

export const platformMigrations = {
  schema: 'platform',
  // names sort in applied order: 0001 and 0002 are idempotency's, 0003 the dead letters
  migrations: { ...idempotencyMigrations, '0003_dead_letters': deadLettersMigration },
};

/** Every module's token check, in module order; the first to throw refuses the token. */
function checkTokenWith(modules: LecternModule[]): (principal: Principal) => void | Promise<void> {
  const checks = modules.flatMap((m) => (m.checkToken ? [m.checkToken] : []));
  // one module (identity) checks tokens in most processes: call it without a wrapper's promise
  const [only] = checks;
  if (checks.length === 1 && only) return only;
  return async (principal) => {
    for (const check of checks) await check(principal);
  };
}

/** Compose the platform and the chosen modules into one running HTTP app. Tests build through this. */
export async function buildApp(
  platform: Platform,
  modules: LecternModule[],
  options: AppOptions,
): Promise<LecternApp> {
  const { config, logger, database, cache, bus } = platform;
  const worker = options.worker ?? true;
  const jobWorker = options.jobs ?? worker;
  // pg-boss makes its own schema (a first start's longest script after the migrations): begun
  // beside the migrations and the routes, and awaited by startJobs below before any job is sent
  platform.jobs.start({ worker: jobWorker }).catch(() => undefined);
  await migrate(platform, modules);

  const app = await createHttpServer({
    config,
    logger,
    metrics: platform.metrics,
    cache,
    readiness: { database: () => database.ping(), cache: () => cache.ping(), bus: () => bus.ping() },
  });
  // before any module's routes, so every route may opt in with `config: { rawBody: true }`
  registerRawBody(app);
  const verifier = createTokenVerifier({
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    keys: options.keys,
    check: checkTokenWith(modules),
  });
  const kit: HttpKit = { auth: createAuthGuard(verifier), idempotency: createIdempotency(app, database.db) };

  const routes: ServedRoute[] = [];
  const recordRoutes = (scope: App, owner: string) => {
    scope.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes.push({ owner, method, url: route.url });
    });
  };
  for (const module of modules) {
    const own = (register: (scope: App, kit: HttpKit) => void | Promise<void>) => async (scope: App) => {
      recordRoutes(scope, module.name);
      await register(scope, kit);
    };
    if (module.rootRoutes) await app.register(own(module.rootRoutes));
    if (module.routes) await app.register(own(module.routes), { prefix: '/api/v1' });
  }
  const deadLetters = createDeadLetterAdmin({ db: database.db, modules, logger });
  await app.register(
    (scope, _options, done) => {
      recordRoutes(scope, 'platform');
      deadLetterRoutes(deadLetters)(scope, kit);
      done();
    },
    { prefix: '/api/v1' },
  );

  const relay = createRelay(platform, modules);
  // without the worker, jobs can still be sent from this process; they run elsewhere
  await startJobs(platform, modules, { worker: jobWorker, idempotency: kit.idempotency });
  if (worker) await startWorker(platform, modules, relay);
  await app.ready();

  return {
    app,
    routes,
    kit,
    relay,
    async close() {
      await app.close();
      await relay.stop();
      await platform.jobs.stop();
      for (const module of modules) await module.close?.();
    },
  };
}
