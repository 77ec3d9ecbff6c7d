import v8 from 'node:v8';

/**
 * How far V8 lets the old generation grow past what survived the last full collection, in
 * percent. V8's own factor is up to 4× on a machine with more than 2 GB of heap limit, so a
 * server with ~90 MB live heap under load let garbage pile up to 300+ MB before collecting it
 * (bench/RESULTS.md, memory round). 50 % keeps the peak near live × 1.5 for a few more full
 * collections, which run mostly on V8's background threads.
 *
 * The young generation is not capped here: V8 sizes it when the heap is set up, so
 * `--max-semi-space-size` set at run time changes nothing (the new space still grows to
 * 2 × 16 MB = 32 MB of RSS on Node 20); it takes `node --max-semi-space-size=N` at start, at the
 * price of more scavenges (bench/RESULTS.md, 2026-12-03 memory round).
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Cap V8's old-generation growth for this process, unless it was started with a value of its
 * own (`node --heap-growing-percent=N`, also in NODE_OPTIONS), which then wins. The flag is read
 * at every full collection, so setting it at start-up, after the heap exists, takes effect.
 */
export function limitHeapGrowth(
  percent = HEAP_GROWING_PERCENT,
  execArgv = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? '',
): boolean {
  const own = /^--heap[-_]growing[-_]percent(=|$)/;
  // NODE_OPTIONS does not show in execArgv
  if ([...execArgv, ...nodeOptions.split(/\s+/)].some((arg) => own.test(arg))) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
