// The hot-path goals (issue 9) as checks over one run's numbers, so every `npm run bench`
// says which are met instead of leaving the reader to compare ratios by hand.
import type { Measurement } from './report.js';

export interface Goal {
  goal: string;
  /** What this run measured, in words (ratio, p99, MB, s). */
  measured: string;
  met: boolean | null;
}

export interface GoalInput {
  scenarios: Measurement[];
  database: string | undefined;
  /** Highest RSS sampled over all measured scenarios, MB. */
  peakRssMB: number;
  /** Seconds from process start until listening, on an empty data folder. */
  readySeconds: number | undefined;
  /** pgbench's TPC-B-like tps on the same PostgreSQL in the same run (PostgreSQL runs only). */
  pgbenchTps?: number | undefined;
  /**
   * By scenario name: pgbench measured right before and right after a scenario held to a share of
   * it; that goal uses the faster of the two instead of `pgbenchTps`.
   */
  pgbenchBeside?: Record<string, { before: number; after: number }> | undefined;
  /** Bare Fastify with only Lectern's response headers, × bare: the most any route can reach. */
  referenceRatio?: number | undefined;
  /**
   * By scenario name: the reference sending that scenario's own answer, × bare. The ceiling of a
   * goal whose answers are larger than the reference's.
   */
  ceilings?: Record<string, number> | undefined;
  /**
   * By scenario name: bare Fastify and pg doing the least that scenario's route must do
   * (bench/bare-pg.ts), for the goals PostgreSQL decides. No route of Lectern beats it here.
   */
  floors?: Record<string, Measurement> | undefined;
}

interface RatioGoal {
  label: string;
  /** Matched against the scenario name. */
  scenario: RegExp;
  minRatio: number;
  maxP99Ms?: number;
}

const ratioGoals: RatioGoal[] = [
  { label: 'GET /healthz', scenario: /^platform\/healthz$/, minRatio: 0.8 },
  { label: 'guarded route that reads nothing', scenario: /token-info/, minRatio: 0.4 },
  {
    label: 'warm course list',
    scenario: /course list, newest first page, warm/,
    minRatio: 0.5,
    maxP99Ms: 10,
  },
  { label: 'warm course detail', scenario: /course detail with outline, warm/, minRatio: 0.5, maxP99Ms: 10 },
  {
    label: 'reviews of a course with 10,000 reviews, best first, warm',
    scenario: /community reviews, 10,000 reviews, best first, warm/,
    minRatio: 0.4,
  },
  {
    label: 'reviews of a course with 10,000 reviews, best first, uncached',
    scenario: /community reviews, 10,000 reviews, best first, uncached/,
    minRatio: 0,
    maxP99Ms: 20,
  },
  {
    label: 'content access check, entitled learner, warm',
    scenario: /content access check, entitled/,
    minRatio: 0.4,
  },
];

/** Whether a scenario is measured against a "≥ N× bare" goal (and so has a ceiling worth knowing). */
export const hasRatioGoal = (name: string): boolean =>
  ratioGoals.some((g) => g.minRatio > 0 && g.scenario.test(name));

const MIN_PROGRESS_TO_PGBENCH = 0.5;
const MIN_CHECKOUTS_TO_PGBENCH = 0.3;
const PROGRESS = /progress writes/;
const CHECKOUTS = /full checkouts/;

/** Whether a scenario is measured against a share of pgbench's tps (and so gets pgbench beside it). */
export const hasPgbenchGoal = (name: string): boolean => PROGRESS.test(name) || CHECKOUTS.test(name);

/** The pgbench tps a scenario's goal is judged against, and how the goals list names it. */
function pgbenchFor(input: GoalInput, scenario: string): { tps: number; words: string } | undefined {
  const beside = input.pgbenchBeside?.[scenario];
  if (beside) {
    const tps = Math.max(beside.before, beside.after);
    return {
      tps,
      words: `${tps.toFixed(0)} tps (pgbench right before / after it: ${beside.before.toFixed(0)} / ${beside.after.toFixed(0)})`,
    };
  }
  return input.pgbenchTps
    ? { tps: input.pgbenchTps, words: `${input.pgbenchTps.toFixed(0)} tps` }
    : undefined;
}

const MAX_RSS_MB = 250;
const MAX_READY_SECONDS = 5;

/** What the goal's route could reach at best here, as the goals list words it ('' when unmeasured). */
function ceilingOf(input: GoalInput, scenario: string): string {
  const own = input.ceilings?.[scenario];
  if (own !== undefined) return ` (bare + Lectern's headers sending this answer: ${own.toFixed(2)}×)`;
  if (input.referenceRatio !== undefined) {
    return ` (bare + Lectern's headers alone: ${input.referenceRatio.toFixed(2)}×)`;
  }
  return '';
}

/** The floor row measured after a goal's scenario, as the goals list words it ('' when unmeasured). */
function floorOf(input: GoalInput, scenario: string, pgbenchTps?: number): string {
  const floor = input.floors?.[scenario];
  if (!floor || floor.error) return '';
  if (floor.checkoutsPerSec !== undefined) {
    const share = pgbenchTps ? ` = ${(floor.checkoutsPerSec / pgbenchTps).toFixed(2)}×` : '';
    return ` (bare Fastify + pg doing the least of a checkout: ${floor.checkoutsPerSec.toFixed(0)} checkouts/s${share})`;
  }
  return ` (bare Fastify + pg running its statement: p99 ${floor.latencyMs.p99} ms at ${floor.reqPerSec.toFixed(0)} req/s)`;
}

/**
 * What a checkout costs the machine, Lectern's process and the database apart, beside its floor's
 * (when the database's processes could be read): '' otherwise.
 */
export function checkoutCpuOf(checkout: Measurement, floor: Measurement | undefined): string {
  const split = (m: Measurement | undefined): string | undefined => {
    if (!m || m.error || m.dbCpuUsPerRequest === undefined || !m.checkoutsPerSec) return undefined;
    const requests = m.reqPerSec / m.checkoutsPerSec;
    const us = (n: number) => Math.round(n * requests).toLocaleString('en');
    return `${us(m.cpuUsPerRequest)} µs server + ${us(m.dbCpuUsPerRequest)} µs database`;
  };
  const own = split(checkout);
  if (!own) return '';
  const floors = split(floor);
  return `; CPU a checkout ${own}${floors ? ` (floor ${floors})` : ''}`;
}

/** The baselines a goal's ratio was taken against, when measured beside it ('' otherwise). */
function besideOf(m: Measurement): string {
  const b = m.besideBaseline;
  if (!b) return '';
  const k = (reqPerSec: number) => `${(reqPerSec / 1000).toFixed(1)}k`;
  const rounds =
    m.roundRatios && m.roundRatios.length > 1
      ? `; the median of ${m.roundRatios.length} rounds: ${m.roundRatios.map((r) => `${r.toFixed(2)}×`).join(', ')}`
      : '';
  return ` (bare right before / after it: ${k(b.before)} / ${k(b.after)} req/s${rounds})`;
}

/** One measurement of a goal's scenario with bare Fastify measured right before and right after it. */
export interface Round<M extends { reqPerSec: number } = Measurement> {
  scenario: M;
  before: M;
  after: M;
}

/** A round's share of bare Fastify: against the faster of its two baselines. */
export const roundRatio = (r: Round<{ reqPerSec: number }>): number =>
  r.scenario.reqPerSec / Math.max(r.before.reqPerSec, r.after.reqPerSec);

/**
 * The round whose ratio is the median (the lower of the two middle ones for an even count): a
 * neighbour's burst that slows one round, or flatters one baseline, moves the answer less than
 * it moves any one round. Each round's ratio is already against the faster of its baselines.
 */
export function medianRound<R extends Round<{ reqPerSec: number }>>(rounds: readonly R[]): R {
  if (rounds.length === 0) throw new Error('no round to choose from');
  const sorted = [...rounds].sort((a, b) => roundRatio(a) - roundRatio(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as R;
}

export function checkGoals(input: GoalInput): Goal[] {
  const goals: Goal[] = [];
  for (const g of ratioGoals) {
    const wanted = `${g.label} ≥ ${g.minRatio}× bare${g.maxP99Ms ? `, p99 ≤ ${g.maxP99Ms} ms` : ''}`;
    const m = input.scenarios.find((s) => g.scenario.test(s.name));
    if (!m || m.error || m.ratios.reqPerSec === null) {
      goals.push({ goal: wanted, measured: 'not measured in this run', met: null });
      continue;
    }
    const ratioMet = m.ratios.reqPerSec >= g.minRatio;
    const p99Met = g.maxP99Ms === undefined || m.latencyMs.p99 <= g.maxP99Ms;
    // a share of bare Fastify is read against its ceiling; a p99 alone against the floor
    const reference = g.minRatio > 0 ? ceilingOf(input, m.name) : floorOf(input, m.name);
    goals.push({
      goal: wanted,
      measured: `${m.ratios.reqPerSec.toFixed(2)}× bare${besideOf(m)}, p99 ${m.latencyMs.p99} ms${reference}`,
      met: ratioMet && p99Met && !m.flag?.startsWith('BROKEN'),
    });
  }
  const progress = input.scenarios.find((s) => PROGRESS.test(s.name));
  const progressWanted = `progress writes ≥ ${MIN_PROGRESS_TO_PGBENCH}× pgbench TPC-B-like tps`;
  const progressBase = progress && pgbenchFor(input, progress.name);
  if (!progress || progress.error || !progressBase) {
    goals.push({
      goal: progressWanted,
      measured: input.pgbenchTps
        ? 'progress writes not measured'
        : 'no pgbench in this run (PostgreSQL only)',
      met: null,
    });
  } else {
    const r = progress.reqPerSec / progressBase.tps;
    goals.push({
      goal: progressWanted,
      measured: `${progress.reqPerSec.toFixed(0)} writes/s vs ${progressBase.words} = ${r.toFixed(2)}×`,
      met: r >= MIN_PROGRESS_TO_PGBENCH && !progress.flag?.startsWith('BROKEN'),
    });
  }
  // issue 10: a checkout is three requests and several transactions (order, payment, the paid
  // notification with its ledger entry and outbox row), against one pgbench transaction
  const checkout = input.scenarios.find((s) => CHECKOUTS.test(s.name));
  const checkoutWanted = `full checkouts ≥ ${MIN_CHECKOUTS_TO_PGBENCH}× pgbench TPC-B-like tps`;
  const checkoutBase = checkout && pgbenchFor(input, checkout.name);
  if (!checkout || checkout.error || checkout.checkoutsPerSec === undefined || !checkoutBase) {
    goals.push({
      goal: checkoutWanted,
      measured: input.pgbenchTps ? 'full checkouts not measured' : 'no pgbench in this run (PostgreSQL only)',
      met: null,
    });
  } else {
    const r = checkout.checkoutsPerSec / checkoutBase.tps;
    goals.push({
      goal: checkoutWanted,
      measured: `${checkout.checkoutsPerSec.toFixed(1)} checkouts/s vs ${checkoutBase.words} = ${r.toFixed(2)}×${floorOf(input, checkout.name, checkoutBase.tps)}${checkoutCpuOf(checkout, input.floors?.[checkout.name])}`,
      met:
        r >= MIN_CHECKOUTS_TO_PGBENCH &&
        !checkout.flag?.startsWith('BROKEN') &&
        !checkout.flag?.startsWith('buyers'),
    });
  }
  goals.push(...notifyGoals(input));
  const embedded = input.database === 'pglite' || input.database === 'embedded-postgres';
  const services = input.database === 'postgres';
  // the same memory goal for both set-ups; the services one runs with REDIS_URL too (see RESULTS.md)
  goals.push({
    goal: `embedded default: peak RSS under load ≤ ${MAX_RSS_MB} MB`,
    measured: embedded ? `${input.peakRssMB.toFixed(0)} MB` : 'not the embedded default',
    met: embedded ? input.peakRssMB <= MAX_RSS_MB : null,
  });
  goals.push({
    goal: `PostgreSQL (+ Redis): peak RSS under load ≤ ${MAX_RSS_MB} MB`,
    measured: services ? `${input.peakRssMB.toFixed(0)} MB` : 'not PostgreSQL',
    met: services ? input.peakRssMB <= MAX_RSS_MB : null,
  });
  goals.push({
    goal: `embedded default: ready ≤ ${MAX_READY_SECONDS} s on a first start`,
    measured:
      embedded && input.readySeconds !== undefined
        ? `${input.readySeconds.toFixed(1)} s`
        : 'not the embedded default',
    met: embedded && input.readySeconds !== undefined ? input.readySeconds <= MAX_READY_SECONDS : null,
  });
  return goals;
}

export function goalTable(goals: Goal[]): string {
  const mark = (met: boolean | null) => (met === null ? 'n/a ' : met ? 'met ' : 'MISS');
  return goals.map((g) => `${mark(g.met)}  ${g.goal}: ${g.measured}`).join('\n');
}

/** One figure of the analytics batch bench (src/modules/analytics/bench.ts). */
export interface AnalyticsFigure {
  what: string;
  rows: number;
  seconds: number;
  rate: number;
  ratio: number;
}

/**
 * Issue 14's analytics goals, checked over `node --import tsx src/modules/analytics/bench.ts`
 * (PostgreSQL only): throughput or time, each shown with its ratio to a plain COPY of the same
 * rows in the same run.
 */
const analyticsGoalTable: {
  label: string;
  what: RegExp;
  minRows: number;
  minRate?: number;
  maxSeconds?: number;
}[] = [
  {
    label: 'events ingested in batches of 500 ≥ 50,000/s',
    what: /^ingest/,
    minRows: 100_000,
    minRate: 50_000,
  },
  {
    label: 'aggregate refresh of one day of 1,000,000 events ≤ 30 s',
    what: /^aggregate refresh/,
    minRows: 1_000_000,
    maxSeconds: 30,
  },
  {
    label: 'activity score and ranking of 1,000,000 users ≤ 60 s',
    what: /^activity score/,
    minRows: 1_000_000,
    maxSeconds: 60,
  },
];

export function checkAnalyticsGoals(figures: AnalyticsFigure[]): Goal[] {
  return analyticsGoalTable.map((g) => {
    const f = figures.find((x) => g.what.test(x.what));
    if (!f || f.rows < g.minRows) return { goal: g.label, measured: 'not measured at full size', met: null };
    const measured = `${Math.round(f.rate)}/s, ${f.seconds.toFixed(1)} s, ${f.ratio.toFixed(2)}× COPY`;
    const met =
      (g.minRate === undefined || f.rate >= g.minRate) &&
      (g.maxSeconds === undefined || f.seconds <= g.maxSeconds);
    return { goal: g.label, measured, met };
  });
}

// issue 12: notify's goals
const MIN_NOTIFICATIONS_PER_SEC = 5000;
const MAX_SSE_P99_MS = 100;
const MIN_SSE_CLIENTS = 1000;
const MAX_FANOUT_P99_RATIO = 2;

function notifyGoals(input: GoalInput): Goal[] {
  const goals: Goal[] = [];
  const events = input.scenarios.find((s) => /events → inbox notifications/.test(s.name));
  const eventsWanted = `notifications from events ≥ ${MIN_NOTIFICATIONS_PER_SEC.toLocaleString('en')}/s (with its ratio to pgbench)`;
  if (!events?.rate || events.error) {
    goals.push({ goal: eventsWanted, measured: 'not measured in this run', met: null });
  } else {
    const vsPgbench = input.pgbenchTps
      ? ` = ${(events.rate.perSec / input.pgbenchTps).toFixed(2)}× pgbench's ${input.pgbenchTps.toFixed(0)} tps`
      : ' (no pgbench in this run)';
    goals.push({
      goal: eventsWanted,
      measured: `${events.rate.perSec.toFixed(0)}/s (${events.rate.count} in ${events.rate.seconds.toFixed(1)} s)${vsPgbench}`,
      met: events.rate.perSec >= MIN_NOTIFICATIONS_PER_SEC && !events.flag?.startsWith('BROKEN'),
    });
  }
  const sse = input.scenarios.find((s) => /SSE push/.test(s.name));
  const sseWanted = `SSE: a new item reaches ${MIN_SSE_CLIENTS.toLocaleString('en')} connected clients, p99 ≤ ${MAX_SSE_P99_MS} ms from publish`;
  if (!sse?.sse || sse.error) {
    goals.push({ goal: sseWanted, measured: 'not measured in this run', met: null });
  } else {
    const f = sse.sse;
    goals.push({
      goal: sseWanted,
      measured: `${f.received}/${f.expected} receipts on ${f.clients} streams, p99 ${f.publishToReceiptMs.p99} ms (from the insert: ${f.actToReceiptMs.p99} ms)`,
      met:
        f.clients >= MIN_SSE_CLIENTS &&
        f.received === f.expected &&
        f.publishToReceiptMs.p99 <= MAX_SSE_P99_MS,
    });
  }
  const fan = input.scenarios.find((s) => /during a 10,000-learner/.test(s.name));
  const fanWanted = `inbox API p99 during a 10,000-learner fan-out ≤ ${MAX_FANOUT_P99_RATIO}× its p99 alone`;
  if (!fan?.during || fan.error || fan.during.p99Ratio === null) {
    goals.push({ goal: fanWanted, measured: 'not measured in this run', met: null });
  } else {
    const d = fan.during;
    const r = d.p99Ratio ?? Number.POSITIVE_INFINITY;
    goals.push({
      goal: fanWanted,
      measured: `p99 ${fan.latencyMs.p99} ms vs ${d.aloneP99} ms alone = ${r.toFixed(2)}×; fan-out reached ${d.act.reached ?? '?'} in ${(d.act.seconds ?? 0).toFixed(1)} s`,
      met: r <= MAX_FANOUT_P99_RATIO && (d.act.reached ?? 0) >= 10_000 && !fan.flag?.startsWith('BROKEN'),
    });
  }
  return goals;
}
