// Where the server's memory goes once it is up, without load: RSS against the V8 heap, buffers
// and the rest, after each start-up step. `node --import tsx bench/memory-breakdown.ts`
// (DATABASE_URL/REDIS_URL as for `npm run bench`; an empty temporary PGlite otherwise).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { buildApp } from '../src/app.js';
import { composeModules } from '../src/modules/registry.js';
import { loadConfig } from '../src/platform/config.js';
import { createPlatform } from '../src/platform/platform.js';

const MB = 1024 * 1024;
function snapshot(step: string): void {
  const m = process.memoryUsage();
  const heap = v8.getHeapStatistics();
  const mb = (n: number) => (n / MB).toFixed(0).padStart(5);
  process.stdout.write(
    `${step.padEnd(22)} rss ${mb(m.rss)}  heap used ${mb(m.heapUsed)}  heap total ${mb(m.heapTotal)}  ` +
      `external ${mb(m.external)}  array buffers ${mb(m.arrayBuffers)}  code ${mb(heap.total_physical_size - heap.used_heap_size)}\n`,
  );
}

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'lectern-memory-'));
// mkdtemp makes it 0700: as root the embedded PostgreSQL runs as another user, who must enter it
// (else `auto` falls back to PGlite and this measures PGlite)
chmodSync(dataDir, 0o755);
try {
  snapshot('imports');
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir, SEED_DEMO: 'true', LOG_LEVEL: 'warn' });
  const platform = await createPlatform(config);
  snapshot('platform');
  const { modules, keys } = composeModules(platform);
  const lectern = await buildApp(platform, modules, { keys, worker: false });
  await lectern.app.ready();
  snapshot('app ready');
  for (const module of modules) await module.seed?.();
  snapshot('demo data');
  globalThis.gc?.();
  snapshot('after a full GC');
  await lectern.close();
  await platform.close();
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
