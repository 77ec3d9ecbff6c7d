import { describe, expect, it } from 'vitest';
import { GcTrace, gcText } from '../../bench/gc-trace.js';

// lines as Node 20, 22 and 24 print them under --trace-gc
const scavenge20 =
  '[22151:0x14117c40]       19 ms: Scavenge 3.9 (4.0) -> 3.5 (5.0) MB, 1.51 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ';
const scavenge22 =
  '[22159:0x31c38000]      332 ms: Scavenge 54.6 (72.0) -> 35.6 (65.8) MB, pooled: 2 MB, 6.78 / 0.00 ms  (average mu = 0.964, current mu = 0.964) allocation failure; ';
const full24 =
  '[22167:0x1c618000]      240 ms: Mark-Compact 85.5 (149.1) -> 3.7 (69.8) MB, pooled: 48 MB, 9.55 / 0.00 ms  (average mu = 0.912, current mu = 0.900) testing; GC in old space requested';
const reduce =
  '[22167:0x1c618000]      900 ms: Mark-Compact (reduce) 40.1 (60.0) -> 30.2 (50.0) MB, 12.40 / 0.00 ms  (+ 3.1 ms in 10 steps since start of marking) memory reducer';

describe('the bench GC trace', () => {
  it('takes V8 --trace-gc lines and leaves every other line of output alone', () => {
    const trace = new GcTrace();
    for (const line of [scavenge20, scavenge22, full24, reduce]) expect(trace.take(line, 1_000)).toBe(true);
    for (const line of [
      '{"level":40,"msg":"commerce: slow provider"}',
      'catalog: 55 published courses',
      'Scavenge happened somewhere, 2.0 / 0.0 ms',
    ]) {
      expect(trace.take(line, 1_000)).toBe(false);
    }
  });

  it('sums the pauses of each kind inside the window only', () => {
    const trace = new GcTrace();
    trace.take(scavenge20, 999);
    trace.take(scavenge20, 1_000);
    trace.take(scavenge22, 1_500);
    trace.take(full24, 1_800);
    trace.take(reduce, 2_000);
    trace.take(full24, 2_001);
    expect(trace.between(1_000, 2_000)).toEqual({
      young: { count: 2, totalMs: 8.3, maxMs: 6.78 },
      full: { count: 2, totalMs: 22, maxMs: 12.4 },
    });
    expect(trace.between(5_000, 6_000)).toEqual({
      young: { count: 0, totalMs: 0, maxMs: 0 },
      full: { count: 0, totalMs: 0, maxMs: 0 },
    });
  });

  it('reports per second, mean, max and the share of the time stopped', () => {
    const text = gcText(
      { young: { count: 60, totalMs: 150, maxMs: 8.7 }, full: { count: 2, totalMs: 20, maxMs: 14.3 } },
      2,
    );
    expect(text).toBe(
      'young 30/s, mean 2.5 ms, max 8.7 ms; full 2, mean 10.0 ms, max 14.3 ms; 8.5 % of the time stopped',
    );
    expect(
      gcText({ young: { count: 0, totalMs: 0, maxMs: 0 }, full: { count: 0, totalMs: 0, maxMs: 0 } }, 4),
    ).toBe('young none; full none; 0.0 % of the time stopped');
  });
});
