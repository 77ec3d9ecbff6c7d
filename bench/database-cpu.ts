// The database's CPU during a measurement, when its processes run on this machine (PostgreSQL on
// 127.0.0.1, or the embedded one): what each scenario costs the database beside what it costs
// Lectern's process. A checkout's goal is a share of the machine, and both sides spend it.
//
// Counted: every process named `postgres` (the server, its background processes and every
// backend), whichever database it serves. A PostgreSQL shared with other work while the bench
// runs counts that work too; one on another host is not seen (no figure then).
import { readdirSync, readFileSync } from 'node:fs';

/** /proc/<pid>/stat counts CPU in clock ticks of 1/100 s (Linux's USER_HZ). */
const TICK_US = 10_000;

/** Each database process's CPU time so far, µs, by pid. */
export type DatabaseCpu = Map<number, number>;

/** Whether a process's command line (NUL-separated, as /proc gives it) is one of PostgreSQL's. */
export function isDatabaseProcess(cmdline: string): boolean {
  // a backend or background process names itself `postgres: …`; the server is its binary's path
  const argv0 = cmdline.split('\0')[0] ?? '';
  return argv0.startsWith('postgres:') || argv0 === 'postgres' || argv0.endsWith('/postgres');
}

/** User plus system CPU of a /proc/<pid>/stat line, µs. */
export function cpuUsOfStat(stat: string): number {
  // the command (2nd field) may hold spaces and parentheses: fields are counted after its last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is the 3rd field (state); utime and stime are the 14th and 15th
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`not a /proc stat line: ${stat}`);
  return (utime + stime) * TICK_US;
}

/** The database processes' CPU now, or undefined when none is visible (not Linux, another host). */
export function databaseCpu(): DatabaseCpu | undefined {
  if (process.platform !== 'linux') return undefined;
  const found: DatabaseCpu = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!isDatabaseProcess(readFileSync(`/proc/${entry}/cmdline`, 'latin1'))) continue;
      found.set(Number(entry), cpuUsOfStat(readFileSync(`/proc/${entry}/stat`, 'latin1')));
    } catch {
      // gone between the listing and the read, or another user's process
    }
  }
  return found.size > 0 ? found : undefined;
}

/**
 * CPU the database spent between two readings, µs: each process's growth, a process started in
 * between counted from zero. One that ended in between is lost (pools keep their connections).
 */
export function databaseCpuBetween(
  before: DatabaseCpu | undefined,
  after: DatabaseCpu | undefined,
): number | undefined {
  if (!before || !after) return undefined;
  let total = 0;
  for (const [pid, us] of after) total += Math.max(0, us - (before.get(pid) ?? 0));
  return total;
}
