// Turning autocannon results into the numbers, flags and table `npm run bench` reports.
import type { Result } from 'autocannon';
import type { GcSummary } from './gc-trace.js';
import type { BenchRequest } from './protocol.js';

export const MB = 1024 * 1024;
/** Share of non-2xx responses above which a scenario is flagged as broken. */
const BROKEN_SHARE = 0.01;

export interface Measurement {
  name: string;
  method: string;
  path: string;
  reqPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; average: number; max: number };
  responses: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  peakRssMB: number;
  /** Bytes read per response, headers included. */
  bytesPerResponse: number;
  /** For a scenario with `paths`: the pool's size and how many of them were handed out. */
  pathPool?: { paths: number; handedOut: number };
  /** Checkout scenarios: whole checkouts per second (req/s over the requests of one checkout). */
  checkoutsPerSec?: number;
  /**
   * The server process's CPU time (user + system) during the measurement over its responses, µs;
   * the embedded PostgreSQL's processes are not counted.
   */
  cpuUsPerRequest: number;
  /**
   * Its user-space part. The rest is the kernel's, mostly the one writev per response, whose cost
   * on loopback includes waking the load generator and so grows when the server is slower.
   */
  cpuUserUsPerRequest: number;
  /**
   * The database's processes' CPU time during the measurement over the responses, µs, when they
   * run on this machine (bench/database-cpu.ts): PostgreSQL's share of each request.
   */
  dbCpuUsPerRequest?: number;
  /** With `--gc`: the Lectern process's collections during the measured seconds. */
  gc?: GcSummary;
  /** The machine's 1-minute load average when the measurement ended (the machine is shared). */
  loadAverage?: number;
  /** A scenario that measured itself (BenchRequest.measured): items per second, no HTTP load. */
  rate?: { count: number; seconds: number; perSec: number; unit: string; note?: string };
  /** Server-Sent Events (BenchRequest.sse): delays from publish (and from the act's start) to receipt. */
  sse?: SseFigures;
  /** BenchRequest.during: the request's p99 alone and during the act, and what the act reported. */
  during?: {
    label: string;
    aloneP99: number;
    aloneReqPerSec: number;
    p99Ratio: number | null;
    act: Record<string, number>;
  };
  /** Against the bare-Fastify baseline of this run: >1 req/s is faster, >1 p99 or CPU is slower. */
  ratios: { reqPerSec: number | null; p99: number | null; cpu?: number | null; cpuUser?: number | null };
  /**
   * A "× bare" goal's own baselines: bare Fastify's req/s right before and right after it. Its
   * ratios are to the faster of the two rather than to the run's start or end.
   */
  besideBaseline?: { before: number; after: number };
  /**
   * When a goal's scenario was measured in several rounds, each beside its own baselines: every
   * round's ratio, in the order measured. The row's figures are those of the median round.
   */
  roundRatios?: number[];
  /** Why this scenario's numbers cannot be trusted, when they cannot. */
  flag?: string;
  error?: string;
}

export interface SseFigures {
  clients: number;
  rounds: number;
  /** Receipts expected (clients × rounds) and received. */
  expected: number;
  received: number;
  /** From the live hub's publish (after the commit) to the client's receipt, ms. */
  publishToReceiptMs: { p50: number; p99: number; max: number };
  /** From the start of the act (the inbox rows' transaction) to the client's receipt, ms. */
  actToReceiptMs: { p50: number; p99: number; max: number };
}

/** The q-quantile (0..1) of ascending `sorted`, nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

export function flagFor(result: Result): string | undefined {
  const responses = result['2xx'] + result.non2xx;
  if (responses === 0) return `BROKEN: no responses (${result.errors} errors, ${result.timeouts} timeouts)`;
  const codes = Object.entries(result.statusCodeStats)
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, { count }]) => `${code}×${count}`)
    .join(', ');
  const share = result.non2xx / responses;
  if (share > BROKEN_SHARE) return `BROKEN: ${(share * 100).toFixed(1)}% non-2xx (${codes})`;
  if (result.non2xx > 0) return `some non-2xx (${codes})`;
  if (result.errors > 0) return `${result.errors} socket errors (${result.timeouts} timeouts)`;
  return undefined;
}

/** The numbers of one autocannon run, with the server's peak RSS during it. */
export function toMeasurement(
  name: string,
  request: BenchRequest,
  result: Result,
  peakRss: number,
  /**
   * The server's CPU time over the measurement, µs, in all and in user space; and the database's,
   * when its processes could be read.
   */
  cpuUs: { total: number; user: number; database?: number },
): Measurement {
  const flag = flagFor(result);
  const responses = result['2xx'] + result.non2xx;
  return {
    name,
    method: request.method ?? 'GET',
    path: request.path,
    reqPerSec: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      average: result.latency.average,
      max: result.latency.max,
    },
    responses,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, s]) => [code, s.count]),
    ),
    peakRssMB: round(peakRss / MB, 1),
    bytesPerResponse: responses > 0 ? Math.round(result.throughput.total / responses) : 0,
    cpuUsPerRequest: responses > 0 ? round(cpuUs.total / responses, 1) : 0,
    cpuUserUsPerRequest: responses > 0 ? round(cpuUs.user / responses, 1) : 0,
    ...(cpuUs.database !== undefined && responses > 0
      ? { dbCpuUsPerRequest: round(cpuUs.database / responses, 1) }
      : {}),
    ratios: { reqPerSec: null, p99: null },
    ...(flag ? { flag } : {}),
  };
}

export function failed(name: string, err: unknown): Measurement {
  return {
    name,
    method: '',
    path: '',
    reqPerSec: 0,
    latencyMs: { p50: 0, p90: 0, p99: 0, average: 0, max: 0 },
    responses: 0,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    statusCodes: {},
    peakRssMB: 0,
    bytesPerResponse: 0,
    cpuUsPerRequest: 0,
    cpuUserUsPerRequest: 0,
    ratios: { reqPerSec: null, p99: null },
    flag: 'FAILED: see error',
    error: err instanceof Error ? err.message : String(err),
  };
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function ratio(value: number, base: number): number | null {
  return base > 0 ? round(value / base, 2) : null;
}

export function table(rows: Measurement[]): string {
  const x = (r: number | null) => (r === null ? 'n/a' : `${r.toFixed(2)}×`);
  const header = [
    'scenario',
    'req/s',
    '× bare',
    'p50 ms',
    'p99 ms',
    '× bare',
    'err/non-2xx',
    'KB/resp',
    'CPU µs/req',
    '× bare',
    'user µs',
    '× bare',
    'db µs/req',
    'peak RSS MB',
    'load',
    'notes',
  ];
  const cells = rows.map((m) =>
    m.error
      ? [
          m.name,
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          '-',
          `FAILED: ${m.error.split('\n')[0] ?? ''}`,
        ]
      : [
          m.name,
          Math.round(m.reqPerSec).toString(),
          x(m.ratios.reqPerSec),
          String(m.latencyMs.p50),
          String(m.latencyMs.p99),
          x(m.ratios.p99),
          `${m.errors}/${m.non2xx}`,
          (m.bytesPerResponse / 1024).toFixed(1),
          m.cpuUsPerRequest.toFixed(0),
          x(m.ratios.cpu ?? null),
          m.cpuUserUsPerRequest.toFixed(0),
          x(m.ratios.cpuUser ?? null),
          m.dbCpuUsPerRequest === undefined ? '' : m.dbCpuUsPerRequest.toFixed(0),
          m.peakRssMB.toFixed(1),
          m.loadAverage === undefined ? '' : m.loadAverage.toFixed(1),
          m.flag ?? '',
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const left = new Set([0, 15]);
  const line = (c: string[]) =>
    c
      .map((v, i) => (left.has(i) ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
