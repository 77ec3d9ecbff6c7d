// How the embedded database starts and what it costs in memory, per PGlite option set, each in a
// process of its own (RSS is per process). `node --import tsx bench/pglite-start.ts`.
// Results and their reading: bench/RESULTS.md ("PGlite start-up and memory").
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';

const MB = 1024 * 1024;
const defaultParams = PGlite.defaultStartParams;
const variants: Record<string, (template: string) => PGliteOptions> = {
  default: () => ({}),
  'small buffers': () => ({
    startParams: [...defaultParams, '-c', 'shared_buffers=16MB', '-c', 'work_mem=2MB'],
  }),
  'prebuilt data folder (loadDataDir)': (template) => ({
    loadDataDir: new Blob([readFileSync(template)]),
  }),
  'prebuilt data folder + small buffers': (template) => ({
    loadDataDir: new Blob([readFileSync(template)]),
    startParams: [...defaultParams, '-c', 'shared_buffers=16MB', '-c', 'work_mem=2MB'],
  }),
};

async function measure(name: string, template: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pglite-start-'));
  const started = performance.now();
  const options = variants[name]?.(template) ?? {};
  const db = await PGlite.create({ dataDir: path.join(dir, 'pg'), extensions: { pg_trgm }, ...options });
  const open = performance.now() - started;
  await db.exec('create extension if not exists pg_trgm; create table t (id int primary key, s text)');
  await db.exec('insert into t select g, md5(g::text) from generate_series(1, 20000) g');
  for (let i = 0; i < 200; i++) await db.query('select * from t where id = $1', [i]);
  const shared = await db.query<{ shared_buffers: string }>('show shared_buffers');
  const rss = process.memoryUsage.rss() / MB;
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  process.send?.({
    name,
    openSeconds: open / 1000,
    rssMB: rss,
    sharedBuffers: shared.rows[0]?.shared_buffers,
  });
}

async function makeTemplate(file: string): Promise<void> {
  const db = await PGlite.create({ extensions: { pg_trgm } });
  const tarball = await db.dumpDataDir('gzip');
  writeFileSync(file, Buffer.from(await tarball.arrayBuffer()));
  await db.close();
}

const [role, name, template] = process.argv.slice(2);
if (role === 'child' && name && template) {
  await measure(name, template);
} else {
  const file = path.join(os.tmpdir(), `pglite-template-${process.pid}.tgz`);
  const t = performance.now();
  await makeTemplate(file);
  process.stdout.write(
    `template: ${(readFileSync(file).length / MB).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );
  for (const variant of Object.keys(variants)) {
    const result = await new Promise<unknown>((resolve, reject) => {
      const child = fork(import.meta.filename, ['child', variant, file], { execArgv: ['--import', 'tsx'] });
      child.once('message', resolve);
      child.once('exit', (code) => {
        if (code !== 0) reject(new Error(`${variant}: exit ${String(code)}`));
      });
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  rmSync(file, { force: true });
}
