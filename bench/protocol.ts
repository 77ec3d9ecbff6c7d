// Messages between bench/run.ts and the server processes it forks (over the IPC channel).
import type { BenchActResult, BenchRequest } from '../src/platform/module.js';

/**
 * What a scenario's `prepare` returns. With `paths`, the pool is sent one per request, in turn
 * across all connections, and `path` stays the label. The table notes when a run used more
 * requests than the pool holds (the pool then starts over, and repeats may be cache hits).
 */
export type { BenchActResult, BenchRequest };

export interface ReadyInfo {
  port: number;
  /** Scenario names, `<module>/<name>`; empty for the bare baseline. */
  scenarios: string[];
  /** Temporary folder the child removes on exit; the parent removes it too if the child is killed. */
  dataDir?: string;
  /** What the server runs on (database, cache, bus), for the results file. */
  components?: Record<string, string>;
  /** The catalog as measured (catalog module only). */
  catalog?: CatalogSize;
  /** Seconds since the process started at each start-up step, on an empty data folder. */
  startup?: StartupTimes;
}

export interface StartupTimes {
  /** Database opened (PGlite: initdb or load), cache and bus connected. */
  platform: number;
  /** Migrations applied, routes mounted, worker started. */
  app: number;
  /** Demo data seeded. */
  seeded: number;
  /** Listening, before any --courses top-up. */
  listening: number;
  /**
   * The demo data's aftermath done: no unpublished outbox row and no due job left (the relay,
   * the subscribers and the mail jobs it set off); null when not waited for (BENCH_SETTLE=false).
   */
  settled: number | null;
}

export interface CatalogSize {
  /** Published courses once seeding is done. */
  courses: number;
  /** Courses `--courses` added with seedBulkCourses (0: none were missing). */
  bulkSeeded: number;
  /** Seconds seedBulkCourses took. */
  seedSeconds: number;
  /** Seconds the VACUUM (ANALYZE) after the bulk seed took. */
  vacuumSeconds: number;
}

export interface RssReport {
  /**
   * Highest `process.memoryUsage().rss` plus `childrenPss` sampled (every 100 ms; the children
   * every second) since the last reset, in bytes.
   */
  peakRss: number;
  /** Now: this process's RSS plus its children's PSS. */
  rss: number;
  /** Now: the PSS of the child processes (the embedded PostgreSQL), in bytes; 0 without any. */
  childrenPss: number;
  /** The OS's lifetime peak (getrusage maxrss), in bytes. */
  maxRss: number;
  /**
   * CPU time this process has used so far (user + system, µs; its children not included): the
   * parent divides a measurement's difference by its responses, a figure the machine's other
   * load changes far less than req/s.
   */
  cpuUs: number;
  /** The user-space part of `cpuUs` (JavaScript, V8, libuv): what the app's own code changes. */
  cpuUserUs: number;
}

/** A message that expects an answer carrying the same id. */
export type Question =
  | { type: 'rss'; reset: boolean }
  | { type: 'prepare'; name: string }
  | { type: 'act'; name: string; round: number };

export type ToChild = (Question & { id: number }) | { type: 'stop' };

export type FromChild =
  | ({ type: 'ready' } & ReadyInfo)
  | ({ type: 'rss'; id: number } & RssReport)
  | { type: 'prepared'; id: number; request: BenchRequest }
  | { type: 'acted'; id: number; result: BenchActResult }
  | { type: 'failed'; id: number; error: string }
  | { type: 'fatal'; error: string };
