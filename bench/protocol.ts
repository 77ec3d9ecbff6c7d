// Messages between bench/run.ts and the server processes it forks (over the IPC channel).
import type { BenchScenario } from '../src/platform/module.js';

export type BenchRequest = Awaited<ReturnType<BenchScenario['prepare']>>;

export interface ReadyInfo {
  port: number;
  /** Scenario names, `<module>/<name>`; empty for the bare baseline. */
  scenarios: string[];
  /** Temporary folder the child removes on exit; the parent removes it too if the child is killed. */
  dataDir?: string;
  /** What the server runs on (database, cache, bus), for the results file. */
  components?: Record<string, string>;
}

export interface RssReport {
  /** Highest `process.memoryUsage().rss` sampled (every 100 ms) since the last reset, in bytes. */
  peakRss: number;
  rss: number;
  /** The OS's lifetime peak (getrusage maxrss), in bytes. */
  maxRss: number;
}

/** A message that expects an answer carrying the same id. */
export type Question = { type: 'rss'; reset: boolean } | { type: 'prepare'; name: string };

export type ToChild = (Question & { id: number }) | { type: 'stop' };

export type FromChild =
  | ({ type: 'ready' } & ReadyInfo)
  | ({ type: 'rss'; id: number } & RssReport)
  | { type: 'prepared'; id: number; request: BenchRequest }
  | { type: 'failed'; id: number; error: string }
  | { type: 'fatal'; error: string };
