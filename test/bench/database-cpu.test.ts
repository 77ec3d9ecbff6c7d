import { describe, expect, it } from 'vitest';
import { cpuUsOfStat, databaseCpuBetween, isDatabaseProcess } from '../../bench/database-cpu.js';
import { checkoutCpuOf } from '../../bench/goals.js';
import type { Measurement } from '../../bench/report.js';

describe("the bench's database CPU", () => {
  it("knows PostgreSQL's processes by their command line, and no other", () => {
    expect(isDatabaseProcess('postgres: 15/main: postgres lectern 127.0.0.1(51234) idle\0')).toBe(true);
    expect(isDatabaseProcess('postgres: checkpointer \0')).toBe(true);
    expect(isDatabaseProcess('/usr/lib/postgresql/15/bin/postgres\0-D\0/var/lib/postgresql/15/main\0')).toBe(
      true,
    );
    expect(isDatabaseProcess('postgres\0-D\0data\0')).toBe(true);
    expect(isDatabaseProcess('node\0dist/cli.js\0serve\0')).toBe(false);
    expect(isDatabaseProcess('/usr/bin/postgresql-watcher\0')).toBe(false);
    expect(isDatabaseProcess(['psql', '-h', '127.0.0.1', ''].join('\0'))).toBe(false);
  });

  it('reads user and system time after the command, whatever the command holds', () => {
    // utime 1234 and stime 56 ticks of 1/100 s; the command has a space and a ')' of its own
    const stat = '4242 (postgres: x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 56 0 0 20 0 1 0 100 0 0';
    expect(cpuUsOfStat(stat)).toBe((1234 + 56) * 10_000);
    expect(() => cpuUsOfStat('4242 (postgres) S 1')).toThrow(/not a \/proc stat line/);
  });

  it('adds what each process spent between two readings, a new one from zero', () => {
    const before = new Map([
      [1, 100],
      [2, 500],
    ]);
    const after = new Map([
      [1, 150],
      [2, 500],
      [3, 70],
    ]);
    expect(databaseCpuBetween(before, after)).toBe(50 + 0 + 70);
    expect(databaseCpuBetween(undefined, after)).toBeUndefined();
    expect(databaseCpuBetween(before, undefined)).toBeUndefined();
  });

  it("splits a checkout's CPU into the server's and the database's, beside its floor's", () => {
    const row = (reqPerSec: number, cpu: number, db: number | undefined): Measurement =>
      ({
        reqPerSec,
        checkoutsPerSec: reqPerSec / 3,
        cpuUsPerRequest: cpu,
        ...(db === undefined ? {} : { dbCpuUsPerRequest: db }),
      }) as Measurement;
    expect(checkoutCpuOf(row(600, 1_200, 1_000), row(3_000, 200, 270))).toBe(
      '; CPU a checkout 3,600 µs server + 3,000 µs database (floor 600 µs server + 810 µs database)',
    );
    expect(checkoutCpuOf(row(600, 1_200, 1_000), undefined)).toBe(
      '; CPU a checkout 3,600 µs server + 3,000 µs database',
    );
    expect(checkoutCpuOf(row(600, 1_200, undefined), row(3_000, 200, 270))).toBe('');
  });
});
