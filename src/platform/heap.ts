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
 * own (`node --heap-growing-percent=N`), which then wins. The flag is read at every full
 * collection, so setting it at start-up, after the heap exists, takes effect. (Node refuses V8's
 * heap flags in NODE_OPTIONS, so the command line is the only other place they can come from.)
 */
export function limitHeapGrowth(percent = HEAP_GROWING_PERCENT, execArgv = process.execArgv): boolean {
  if (given(/^--heap[-_]growing[-_]percent(=|$)/, execArgv)) return false;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}

/**
 * Turn off V8's allocation-site pretenuring for this process, unless the command line chose
 * (`node --[no-]allocation-site-pretenuring`). V8 counts how many objects of each
 * allocation site survive a young-generation collection and, past a share, allocates that site's
 * objects in the old generation from then on. A busy server trips it: with fifty requests in
 * flight, a query's rows are often alive at a scavenge, and once their sites are pretenured every
 * row lands in the old generation, keeps its strings alive through the scavenges, and dies there.
 * On the uncached reviews page that was 25–30 MB a second into the old generation, almost all of
 * it rows and their strings, and a full collection (5–14 ms of pause) every 1.3 s; without
 * pretenuring the p99 fell by half (bench/RESULTS.md). Objects that do live long still reach the
 * old generation, after two scavenges. Set at start-up, before code is optimised with a site's
 * decision in it.
 */
export function stopPretenuring(execArgv = process.execArgv): boolean {
  if (given(/^--(no-)?allocation[-_]site[-_]pretenuring$/, execArgv)) return false;
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
  return true;
}

/** Whether Node's command line has the flag. */
function given(flag: RegExp, execArgv: string[]): boolean {
  return execArgv.some((arg) => flag.test(arg));
}
