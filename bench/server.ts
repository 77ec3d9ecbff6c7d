// Lectern as `lectern serve` runs it, tuned for a bench: 127.0.0.1 on a free port, demo data,
// quiet logs, a rate limit too high to reach, and (without DATABASE_URL) the embedded database in a
// temporary DATA_DIR that is removed on exit. With BENCH_COURSES (run.ts's --courses) the catalog
// is topped up to that many published courses before the scenarios. Under REDIS_URL the cache
// keys get a prefix of this run's own, so another Lectern on the same Redis can neither serve
// this run stale lists nor invalidate its warm cache; they are deleted on stop. Prepares
// scenarios when bench/run.ts asks.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Kysely, sql } from 'kysely';
import { buildApp, type LecternApp } from '../src/app.js';
import { seedBulkCourses } from '../src/modules/catalog/index.js';
import { composeModules } from '../src/modules/registry.js';
import { loadModuleSettings } from '../src/modules/settings.js';
import { type Cache, createCache } from '../src/platform/cache/cache.js';
import { loadConfig } from '../src/platform/config.js';
import type { BenchScenario } from '../src/platform/module.js';
import { createPlatform, type RunningPlatform } from '../src/platform/platform.js';
import { childControl, fatal } from './child.js';
import type { CatalogSize, StartupTimes } from './protocol.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lectern-bench-'));
// mkdtemp makes it 0700: as root, the embedded PostgreSQL runs as another user who must enter it
chmodSync(dataDir, 0o755);
process.on('exit', () => {
  rmSync(dataDir, { recursive: true, force: true });
});

let platform: RunningPlatform | undefined;
let lectern: LecternApp | undefined;
const scenarios = new Map<string, BenchScenario>();
let baseUrl = '';
const cachePrefix = `lectern-bench:${process.pid}-${randomBytes(4).toString('hex')}:`;

/** Delete this run's keys from Redis (ioredis prefixes commands' keys, not SCAN's pattern). */
async function dropCacheKeys(cache: Cache): Promise<void> {
  const redis = cache.redis;
  if (!redis) return;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${cachePrefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys.map((key) => key.slice(cachePrefix.length)));
  } while (cursor !== '0');
}

const control = childControl({
  async stop() {
    await lectern?.close();
    if (platform) {
      await dropCacheKeys(platform.cache).catch((err: unknown) => {
        process.stderr.write(`could not delete this run's cache keys: ${String(err)}\n`);
      });
    }
    await platform?.close();
  },
  async prepare(name) {
    const scenario = scenarios.get(name);
    if (!scenario) throw new Error(`no scenario "${name}"`);
    return scenario.prepare({ baseUrl });
  },
  async act(name, round) {
    const scenario = scenarios.get(name);
    if (!scenario?.act) throw new Error(`no scenario "${name}" that acts`);
    return scenario.act({ baseUrl, round });
  },
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address !== 'string') resolve(address.port);
        else reject(new Error('no free port'));
      });
    });
  });
}

async function publishedCourses(db: Kysely<object>): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from catalog.courses where status = 'published'`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Top the catalog up to `target` published courses (none are removed), then vacuum what grew. */
async function growCatalog(db: Kysely<object>, target: number): Promise<CatalogSize> {
  const before = await publishedCourses(db);
  const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;
  let bulkSeeded = 0;
  let seedSeconds = 0;
  let vacuumSeconds = 0;
  if (target > before) {
    const started = performance.now();
    bulkSeeded = await seedBulkCourses(db, target - before);
    seedSeconds = seconds(started);
    // Serve the catalog as it is once autovacuum has been by (and where it is off): with fresh
    // statistics, a visibility map, and hint bits set, rather than have the first reads of each
    // new row during the measurement look up its transaction and dirty its page.
    const vacuumStarted = performance.now();
    await sql`vacuum (analyze) catalog.courses, catalog.course_instructors, catalog.course_tags, catalog.chapters, catalog.lessons, catalog.search_words`.execute(
      db,
    );
    vacuumSeconds = seconds(vacuumStarted);
  }
  return { courses: await publishedCourses(db), bulkSeeded, seedSeconds, vacuumSeconds };
}

/** Scenarios every run has, whatever the modules register. */
function builtinScenarios(moduleNames: string[]): [string, BenchScenario][] {
  const builtins: [string, BenchScenario][] = [
    ['platform/healthz', { name: 'healthz', prepare: () => Promise.resolve({ path: '/healthz' }) }],
  ];
  if (moduleNames.includes('catalog')) {
    builtins.push([
      'platform/list-categories',
      { name: 'list-categories', prepare: () => Promise.resolve({ path: '/api/v1/categories' }) },
    ]);
  }
  return builtins;
}

/** Wait until no outbox row is unpublished and no job is due, twice in a row; seconds since start. */
async function settle(running: RunningPlatform, schemas: string[], since: () => number): Promise<number> {
  const db = running.database.db;
  const count = async (query: ReturnType<typeof sql<{ n: number }>>): Promise<number> => {
    try {
      return (await query.execute(db)).rows[0]?.n ?? 0;
    } catch {
      return 0; // a module without an outbox, or no pg-boss schema
    }
  };
  const deadline = Date.now() + 180_000;
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    let pending = await count(
      sql<{
        n: number;
      }>`select count(*)::int as n from pgboss.job where state in ('created', 'retry', 'active') and start_after <= now()`,
    );
    for (const schema of schemas) {
      pending += await count(
        sql<{
          n: number;
        }>`select count(*)::int as n from ${sql.id(schema, 'outbox')} where published_at is null`,
      );
    }
    quiet = pending === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return since();
}

try {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    ...process.env, // DATABASE_URL, REDIS_URL, NATS_URL… are used when set
    HOST: '127.0.0.1',
    PORT: String(port),
    PUBLIC_URL: baseUrl,
    DATA_DIR: dataDir,
    SEED_DEMO: 'true',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    RATE_LIMIT_MAX: '1000000',
    RATE_LIMIT_WINDOW_MS: '1000',
  });
  const targetCourses = Number(process.env.BENCH_COURSES ?? '0');
  if (!Number.isInteger(targetCourses) || targetCourses < 0) {
    throw new Error(`BENCH_COURSES must be a whole number, got "${process.env.BENCH_COURSES ?? ''}"`);
  }
  // seconds since this process started, as `lectern serve` would count them on a first start
  const since = () => Math.round(performance.now() / 100) / 10;
  platform = await createPlatform(
    config,
    config.redisUrl ? { cache: createCache({ redisUrl: config.redisUrl, keyPrefix: cachePrefix }) } : {},
  );
  const platformReady = since();
  // module settings from the environment, as `lectern serve` reads them (run.ts sets a few)
  // the ingest scenario re-sends one batch as fast as it can: its per-route limit must not answer
  const { modules, keys } = composeModules(
    platform,
    undefined,
    loadModuleSettings({ ANALYTICS_INGEST_BATCHES_PER_MINUTE: '1000000', ...process.env }),
  );
  // BENCH_WORKER=false: no outbox relay, event consumer or job here, so a scenario measures its
  // requests alone (the outbox fills and nothing settles: set BENCH_SETTLE=false too)
  const worker = process.env.BENCH_WORKER !== 'false';
  lectern = await buildApp(platform, modules, { keys, worker });
  const appReady = since();
  for (const module of modules) await module.seed?.();
  const seeded = since();
  // listen before the --courses top-up so the start-up time is that of a plain first start
  await lectern.app.listen({ port, host: '127.0.0.1' });
  const listening = since();
  // seeding leaves a backlog (each module's outbox, the subscribers' work, mail jobs) that runs
  // for tens of seconds after it returns; scenarios measured meanwhile measure that backlog too
  const settled =
    process.env.BENCH_SETTLE === 'false' || !worker
      ? null
      : await settle(
          platform,
          modules.map((m) => m.name),
          since,
        );
  const startup: StartupTimes = { platform: platformReady, app: appReady, seeded, listening, settled };
  const hasCatalog = modules.some((m) => m.name === 'catalog');
  if (targetCourses > 0 && !hasCatalog) throw new Error('--courses needs the catalog module');
  const catalog = hasCatalog ? await growCatalog(platform.database.db, targetCourses) : undefined;

  for (const entry of builtinScenarios(modules.map((m) => m.name))) scenarios.set(...entry);
  for (const module of modules) {
    for (const scenario of module.bench ?? []) {
      const name = `${module.name}/${scenario.name}`;
      if (scenarios.has(name)) throw new Error(`two bench scenarios are named "${name}"`);
      scenarios.set(name, scenario);
    }
  }

  control.ready({
    startup,
    port,
    scenarios: [...scenarios.keys()],
    dataDir,
    components: {
      database: platform.database.kind,
      databaseDetail: platform.database.describe(),
      cache: platform.cache.kind,
      bus: platform.bus.kind,
      modules: modules.map((m) => m.name).join(','),
    },
    ...(catalog ? { catalog } : {}),
  });
} catch (err) {
  fatal(err);
}
