// A first start of the embedded default as `npm start` runs it (`node dist/cli.js serve` with the start
// script's Node flags, build first: `npm run build`), on an empty DATA_DIR, per embedded database, alternating so both see the
// same load: seconds from spawn to /readyz answering 200, then the memory of the server (Node RSS
// plus its child processes' PSS: the embedded PostgreSQL) at ready and once the demo data exists,
// and the CPU seconds spent until ready (Node's own, and its child processes': initdb and the
// server), which a loaded machine disturbs less than the wall-clock time.
//   node --import tsx bench/embedded-start.ts [rounds=3] [kinds=postgres,pglite] [cli=dist/cli.js]
// Results and their reading: bench/RESULTS.md (issue 9, embedded database).
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startFlags } from './start-flags.js';

const MB = 1024 * 1024;
const root = path.resolve(import.meta.dirname, '..');
const cli = path.resolve(root, process.argv[4] ?? path.join('dist', 'cli.js'));
const TICKS = 100; // USER_HZ of /proc/<pid>/stat on Linux

function kb(file: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

/** Every descendant of `pid` still running (the embedded PostgreSQL's processes). */
function descendants(pid: number): number[] {
  let ids: number[] = [];
  try {
    ids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  return ids.flatMap((id) => [id, ...descendants(id)]);
}

/** The sum of `measure` over the processes, skipping any that ended meanwhile. */
function sumOver(pids: number[], measure: (pid: number) => number): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      sum += measure(pid);
    } catch {
      // ended meanwhile
    }
  }
  return sum;
}

/** Node's RSS and the PSS of every descendant (the embedded PostgreSQL's processes), in bytes. */
function memory(pid: number): { node: number; children: number } {
  return {
    node: kb(`/proc/${pid}/status`, 'VmRSS'),
    children: sumOver(descendants(pid), (id) => kb(`/proc/${id}/smaps_rollup`, 'Pss')),
  };
}

/** CPU seconds of the process (user, system) and of its children, waited-for (initdb) and running. */
function cpuSeconds(pid: number): { node: number; children: number } {
  const stat = (p: number): number[] => {
    const text = readFileSync(`/proc/${p}/stat`, 'utf8');
    // the fields after the command name, which is in parentheses and may hold spaces
    return text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
  };
  // utime, stime, cutime, cstime are fields 14–17 of stat, 11–14 after the name
  const running = sumOver(descendants(pid), (id) => {
    const f = stat(id);
    return (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0);
  });
  const own = stat(pid);
  return {
    node: ((own[11] ?? 0) + (own[12] ?? 0)) / TICKS,
    children: ((own[13] ?? 0) + (own[14] ?? 0) + running) / TICKS,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  });
}

async function until(what: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await what().catch(() => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function firstStart(kind: string): Promise<Record<string, number | string>> {
  const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'lectern-first-start-'));
  // mkdtemp makes it 0700: as root, the embedded PostgreSQL's user must be able to enter it
  chmodSync(dataRoot, 0o755);
  const port = await freePort();
  // no service URLs: the embedded default
  const { DATABASE_URL: _db, REDIS_URL: _redis, NATS_URL: _nats, ...inherited } = process.env;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    DATA_DIR: path.join(dataRoot, 'data'),
    PORT: String(port),
    HOST: '127.0.0.1',
    EMBEDDED_DB: kind,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'true',
  };
  const started = performance.now();
  const child = spawn(process.execPath, [...startFlags(), cli, 'serve'], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const ready = await until(async () => (await fetch(`${base}/readyz`)).ok, 180_000);
    if (!ready || !child.pid) throw new Error(`${kind}: not ready in 180 s`);
    const readySeconds = (performance.now() - started) / 1000;
    const atReady = memory(child.pid);
    const cpu = cpuSeconds(child.pid);
    const seeded = await until(async () => {
      const res = await fetch(`${base}/api/v1/courses?limit=1`);
      return res.ok && ((await res.json()) as { data: unknown[] }).data.length > 0;
    }, 180_000);
    const seededSeconds = (performance.now() - started) / 1000;
    // let the seed's last jobs and mails settle before the idle figure
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idle = memory(child.pid);
    return {
      kind,
      load: os.loadavg()[0]?.toFixed(1) ?? '?',
      readyS: Number(readySeconds.toFixed(1)),
      readyNodeCpuS: Number(cpu.node.toFixed(2)),
      readyChildrenCpuS: Number(cpu.children.toFixed(2)),
      demoDataS: seeded ? Number(seededSeconds.toFixed(1)) : 'timeout',
      readyNodeMB: Math.round(atReady.node / MB),
      readyDbPssMB: Math.round(atReady.children / MB),
      idleNodeMB: Math.round(idle.node / MB),
      idleDbPssMB: Math.round(idle.children / MB),
      idleTotalMB: Math.round((idle.node + idle.children) / MB),
    };
  } finally {
    await stop(child);
    rmSync(dataRoot, { recursive: true, force: true });
  }
}

if (!existsSync(cli)) throw new Error('run `npm run build` first (dist/cli.js is what `npm start` runs)');
const rounds = Number(process.argv[2] ?? '3');
const kinds = (process.argv[3] ?? 'postgres,pglite').split(',');
for (let round = 0; round < rounds; round++) {
  for (const kind of kinds) process.stdout.write(`${JSON.stringify(await firstStart(kind))}\n`);
}
