import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildApp, type LecternApp } from '../../src/app.js';
import { createCache } from '../../src/platform/cache/cache.js';
import { loadConfig } from '../../src/platform/config.js';
import type { KeySource } from '../../src/platform/http/auth.js';
import { createInProcessBus } from '../../src/platform/messaging/in-process-bus.js';
import { createJetStreamBus } from '../../src/platform/messaging/jetstream-bus.js';
import { isolatedStream } from '../../src/platform/messaging/test-support.js';
import type { EventBus } from '../../src/platform/messaging/types.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import type { LecternModule, Platform } from '../../src/platform/module.js';
import { createPlatform, type RunningPlatform } from '../../src/platform/platform.js';
import { freshDatabase } from './database.js';
import { createTestTokens, type TestTokens } from './tokens.js';

export interface TestApp extends LecternApp {
  platform: RunningPlatform;
  tokens: TestTokens;
  dataDir: string;
  /** Stop everything and drop the test database. */
  stop(): Promise<void>;
}

export interface TestAppOptions {
  /** Extra environment for loadConfig (never the process environment's service URLs). */
  env?: Record<string, string>;
  /** Override platform parts (e.g. a JetStream bus). */
  platform?: Partial<Platform>;
  /** Use these keys instead of the test token keys (e.g. the identity module's). */
  keys?: (platform: Platform) => KeySource | URL;
  worker?: boolean;
  /** Run job handlers in the app (as `worker` unless set); off, the test runs each job by hand. */
  jobs?: boolean;
}

/**
 * JetStream on a stream and subject prefix of this test file's own when NATS_URL is set (deleted
 * at the end), the in-process bus otherwise.
 */
async function testBus(): Promise<{ bus: EventBus; drop: () => Promise<void> }> {
  const url = process.env.NATS_URL;
  if (!url) return { bus: createInProcessBus(), drop: () => Promise.resolve() };
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const isolated = isolatedStream();
  const bus = await createJetStreamBus({ url, logger: createLogger('silent'), ...isolated });
  return {
    bus,
    async drop() {
      const nc = await connect({ servers: url });
      try {
        await (await jetstreamManager(nc)).streams.delete(isolated.stream).catch(() => false);
      } finally {
        await nc.close();
      }
    },
  };
}

/**
 * The migrated template holds the registry's modules; a test module that borrows one of their
 * schema names with other migrations (a stand-in publisher) gets that schema empty instead of a
 * history it does not know.
 */
async function forgetForeignHistories(db: Kysely<object>, modules: LecternModule[]): Promise<void> {
  for (const module of modules) {
    const table = await sql<{ found: string | null }>`
      select to_regclass(${`${module.name}.kysely_migration`}) as found`.execute(db);
    if (!table.rows[0]?.found) continue;
    const recorded = await sql<{ name: string }>`
      select name from ${sql.table(`${module.name}.kysely_migration`)}`.execute(db);
    if (recorded.rows.some((r) => !(r.name in module.migrations))) {
      await sql`drop schema ${sql.id(module.name)} cascade`.execute(db);
    }
  }
}

/**
 * An app on a database of its own: real PostgreSQL when DATABASE_URL is set, PGlite otherwise;
 * Redis (under a prefix of its own) when REDIS_URL is set, memory otherwise; JetStream (a stream of
 * its own) when NATS_URL is set, in-process otherwise.
 */
export async function buildTestApp(
  modules: (platform: Platform) => LecternModule[],
  options: TestAppOptions = {},
): Promise<TestApp> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lectern-test-'));
  const config = loadConfig({ LOG_LEVEL: 'silent', DATA_DIR: dataDir, OUTBOX_POLL_MS: '20', ...options.env });
  const redisUrl = process.env.REDIS_URL;
  const { bus, drop } = options.platform?.bus
    ? { bus: options.platform.bus, drop: () => Promise.resolve() }
    : await testBus();
  // a cache the test passes is the one used: opening our own would leave a Redis connection open
  const cache =
    options.platform?.cache ?? createCache({ redisUrl, keyPrefix: `lectern-test:${randomUUID()}:` });
  const platform = await createPlatform(config, {
    bus,
    ...options.platform,
    // a database the test passes is the one used: a fresh one beside it would never be dropped
    database: options.platform?.database ?? (await freshDatabase({ template: 'migrated' })),
    cache,
  });
  const tokens = await createTestTokens(config.jwtIssuer, config.jwtAudience);
  const composed = modules(platform);
  if (!options.platform?.database) await forgetForeignHistories(platform.database.db, composed);
  const built = await buildApp(platform, composed, {
    keys: options.keys ? options.keys(platform) : tokens.keys,
    worker: options.worker ?? true,
    ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
  });
  return {
    ...built,
    platform,
    tokens,
    dataDir,
    async stop() {
      await built.close();
      await platform.close();
      await drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
