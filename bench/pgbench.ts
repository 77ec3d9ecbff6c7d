// pgbench's TPC-B-like transactions per second on the PostgreSQL the run uses, measured in the
// same run on a scratch database of its own (created and dropped here): the baseline of the
// learning module's progress-write goal.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { scratchDatabase } from './scratch-database.js';

const run = promisify(execFile);

function pgbenchBinary(): string | undefined {
  const root = '/usr/lib/postgresql';
  try {
    const newest = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
    return newest ? path.join(root, newest, 'bin', 'pgbench') : undefined;
  } catch {
    return undefined;
  }
}

export interface PgbenchResult {
  tps: number;
  clients: number;
  seconds: number;
}

/** `pgbench -i` on a scratch database, then `pgbench -T seconds -c clients`; throws without pgbench. */
export async function measurePgbench(databaseUrl: string, seconds = 10, clients = 8): Promise<PgbenchResult> {
  const binary = pgbenchBinary();
  if (!binary) throw new Error('pgbench not found under /usr/lib/postgresql/*/bin');
  const scratch = await scratchDatabase(databaseUrl, 'lectern_pgbench');
  try {
    await run(binary, ['-i', '-q', scratch.url]);
    const { stdout } = await run(binary, [
      '-T',
      String(seconds),
      '-c',
      String(clients),
      '-j',
      '2',
      scratch.url,
    ]);
    const match =
      /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? /tps = ([\d.]+)/.exec(stdout);
    if (!match?.[1]) throw new Error(`could not read pgbench's tps from: ${stdout}`);
    return { tps: Number(match[1]), clients, seconds };
  } finally {
    await scratch.drop().catch(() => undefined);
  }
}
