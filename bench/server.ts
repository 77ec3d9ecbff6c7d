// Lectern as `lectern serve` runs it, tuned for a bench: 127.0.0.1 on a free port, demo data,
// quiet logs, a rate limit too high to reach, and (without DATABASE_URL) embedded PGlite in a
// temporary DATA_DIR that is removed on exit. Prepares scenarios when bench/run.ts asks.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type LecternApp } from '../src/app.js';
import { composeModules } from '../src/modules/registry.js';
import { loadConfig } from '../src/platform/config.js';
import type { BenchScenario } from '../src/platform/module.js';
import { createPlatform, type RunningPlatform } from '../src/platform/platform.js';
import { childControl, fatal } from './child.js';

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lectern-bench-'));
process.on('exit', () => {
  rmSync(dataDir, { recursive: true, force: true });
});

let platform: RunningPlatform | undefined;
let lectern: LecternApp | undefined;
const scenarios = new Map<string, BenchScenario>();
let baseUrl = '';

const control = childControl({
  async stop() {
    await lectern?.close();
    await platform?.close();
  },
  async prepare(name) {
    const scenario = scenarios.get(name);
    if (!scenario) throw new Error(`no scenario "${name}"`);
    return scenario.prepare({ baseUrl });
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
  platform = await createPlatform(config);
  const { modules, keys } = composeModules(platform);
  lectern = await buildApp(platform, modules, { keys, worker: true });
  for (const module of modules) await module.seed?.();

  for (const entry of builtinScenarios(modules.map((m) => m.name))) scenarios.set(...entry);
  for (const module of modules) {
    for (const scenario of module.bench ?? []) {
      const name = `${module.name}/${scenario.name}`;
      if (scenarios.has(name)) throw new Error(`two bench scenarios are named "${name}"`);
      scenarios.set(name, scenario);
    }
  }

  await lectern.app.listen({ port, host: '127.0.0.1' });
  control.ready({
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
  });
} catch (err) {
  fatal(err);
}
