// `npm run bench`: load-test Lectern's scenarios against a bare Fastify baseline measured in the
// same run. Servers run in child processes (their own event loop, their own RSS); autocannon
// runs here and only ever targets 127.0.0.1. Prints a table and writes bench/results/<time>.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon, { type Instance, type RequestSpec, type Result } from 'autocannon';
import { Child, live } from './children.js';
import { measuredResult, measureDuring, measureSse } from './custom.js';
import { databaseCpu, databaseCpuBetween } from './database-cpu.js';
import { keepBodies } from './autocannon-bodies.js';
import {
  checkGoals,
  goalTable,
  hasPgbenchGoal,
  hasRatioGoal,
  medianRound,
  type Round,
  roundRatio,
} from './goals.js';
import { mainThreadProfile, profileTable, topFunctions } from './profile.js';
import type { BenchRequest } from './protocol.js';
import { startFlags } from './start-flags.js';
import { failed, MB, type Measurement, ratio, round, table, toMeasurement } from './report.js';
import { measurePgbench, type PgbenchResult } from './pgbench.js';
import { GcTrace, gcText } from './gc-trace.js';

const usage = `Usage: npm run bench -- [options]

  --duration N      seconds measured per scenario (default 10)
  --warmup N        seconds of unmeasured load before each measurement (default 2)
  --connections N   concurrent connections (default 50)
  --filter TEXT     only scenarios whose name contains TEXT; several texts separated by
                    commas keep a scenario that matches any of them (the baseline always runs)
  --courses N       top the catalog up to N published courses (seedBulkCourses: one chapter,
                    two lessons each) before the scenarios; default: just the demo catalog (55)
  --rounds N        measure each "× bare" goal's scenario N times, each between two bare Fastify
                    measurements, and judge the median round (default 3)
  --profile         run Lectern under node --cpu-prof and print the functions with the most
                    self time (the profile file is kept under bench/results/profiles)
  --gc              run Lectern under node --trace-gc and print, for each of its scenarios, the
                    young and full collections of the measured seconds and their pauses
  -h, --help        this text

The database is DATABASE_URL when set, else embedded PGlite in a temporary folder.`;

// ---------------------------------------------------------------------------------------------
// options

function parseOptions() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' },
      filter: { type: 'string' },
      courses: { type: 'string', default: '0' },
      rounds: { type: 'string', default: '3' },
      profile: { type: 'boolean', default: false },
      gc: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const whole = (flag: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) {
      process.stderr.write(`--${flag} must be a whole number ≥ ${min}, got "${raw}"\n\n${usage}\n`);
      process.exit(2);
    }
    return n;
  };
  return {
    duration: whole('duration', values.duration, 1),
    warmup: whole('warmup', values.warmup, 0),
    connections: whole('connections', values.connections, 1),
    filter: values.filter,
    courses: whole('courses', values.courses, 0),
    rounds: whole('rounds', values.rounds, 1),
    profile: values.profile,
    gc: values.gc,
  };
}

// ---------------------------------------------------------------------------------------------
// load

let firing: Instance | undefined;

/** A scenario's `paths`, one per request across warm-up and measurement, starting over when used up. */
class PathPool {
  private taken = 0;
  constructor(readonly paths: string[]) {}

  take(): string {
    const next = this.paths[this.taken % this.paths.length] ?? '/';
    this.taken++;
    return next;
  }

  /** Paths handed out so far (autocannon builds one ahead per connection). */
  get handedOut(): number {
    return this.taken;
  }
}

/** Requests of one checkout (BenchRequest.checkout): order, start a sandbox payment, pay. */
export const CHECKOUT_REQUESTS = 3;

/**
 * The checkout flow as autocannon request entries: each connection sends them in turn, carrying
 * the order and payment ids from one answer to the next request in its context.
 */
function checkoutRequests(
  buyers: NonNullable<BenchRequest['checkout']>['buyers'],
  taken: { n: number },
): RequestSpec[] {
  const idOf = (body: string): string | undefined => {
    try {
      const id = (JSON.parse(body) as { id?: unknown }).id;
      return typeof id === 'string' ? id : undefined;
    } catch {
      return undefined;
    }
  };
  // a failed step leaves no id: the next one then answers 404, which the table counts as non-2xx
  const idIn = (value: unknown): string => (typeof value === 'string' ? value : 'none');
  const jsonHeaders = (authorization?: string) => ({
    'content-type': 'application/json',
    ...(authorization ? { authorization } : {}),
  });
  return [
    {
      method: 'POST',
      setupRequest: (spec, context) => {
        // used up: start over (those orders answer 409 already-owned, which the table flags)
        const buyer = buyers[taken.n++ % buyers.length];
        context.authorization = buyer?.authorization;
        context.orderId = undefined;
        context.paymentId = undefined;
        return {
          ...spec,
          path: '/api/v1/orders',
          headers: jsonHeaders(buyer?.authorization),
          body: JSON.stringify({ courseIds: [buyer?.courseId] }),
        };
      },
      onResponse: (status, body, context) => {
        context.orderId = status === 201 ? idOf(body) : undefined;
      },
    },
    {
      method: 'POST',
      setupRequest: (spec, context) => ({
        ...spec,
        path: `/api/v1/orders/${idIn(context.orderId)}/payments`,
        headers: jsonHeaders(context.authorization as string | undefined),
        body: '{"provider":"sandbox"}',
      }),
      onResponse: (status, body, context) => {
        context.paymentId = status === 201 ? idOf(body) : undefined;
      },
    },
    {
      method: 'POST',
      setupRequest: (spec, context) => ({
        ...spec,
        path: `/api/v1/sandbox/pay/${idIn(context.paymentId)}`,
        headers: jsonHeaders(),
        body: '{"action":"pay"}',
      }),
    },
  ];
}

const REFERENCE_NAME = "bare-fastify + Lectern's response headers";

/**
 * Bare Fastify measured as a scenario is, in a child process of its own; with `headers`, the
 * reference row (bare-fastify.ts): the same with only the headers every Lectern response carries.
 */
async function measureBare(
  options: ReturnType<typeof parseOptions>,
  variant: 'baseline' | 'headers' = 'baseline',
  answer?: { file: string; of: string },
): Promise<Measurement> {
  const env =
    variant === 'headers'
      ? { ...process.env, BARE_VARIANT: 'headers', ...(answer ? { BARE_BODY_FILE: answer.file } : {}) }
      : process.env;
  const bare = new Child('bare-fastify', 'bare-fastify.ts', 30_000, env);
  const ready = await bare.ready;
  let name = variant === 'baseline' ? 'bare-fastify' : REFERENCE_NAME;
  if (answer) name = `bare-fastify + headers + the answer of ${answer.of}`;
  const m = await measure(bare, ready.port, name, { path: '/' }, options);
  m.loadAverage = round(os.loadavg()[0] ?? 0, 1);
  await bare.stop();
  return m;
}

/** The scenarios whose goal PostgreSQL decides, by the floor row (bench/bare-pg.ts) measured after each. */
const FLOORS: { scenario: RegExp; kind: 'checkout' | 'reviews'; name: string }[] = [
  {
    scenario: /full checkouts/,
    kind: 'checkout',
    name: 'floor: bare Fastify + pg, the least a checkout writes',
  },
  {
    scenario: /best first, uncached/,
    kind: 'reviews',
    name: "floor: bare Fastify + pg, the reviews page's statement",
  },
];

/**
 * The floor of a goal PostgreSQL decides: bare Fastify and pg doing the least its route must do,
 * in a child process of its own on a scratch database (PostgreSQL runs only).
 */
async function measureFloor(
  options: ReturnType<typeof parseOptions>,
  floor: (typeof FLOORS)[number],
): Promise<Measurement> {
  const child = new Child(`bare-pg (${floor.kind})`, 'bare-pg.ts', 120_000, {
    ...process.env,
    BARE_PG: floor.kind,
  });
  try {
    const ready = await child.ready;
    const request = await child.prepare(`floor/${floor.kind}`);
    const m = await measure(child, ready.port, floor.name, request, options);
    m.loadAverage = round(os.loadavg()[0] ?? 0, 1);
    return m;
  } finally {
    await child.stop();
  }
}

/** The faster of two bare Fastify measurements: a slow moment must not flatter the ratios. */
const fasterOf = (a: Measurement, b: Measurement): Measurement => (b.reqPerSec > a.reqPerSec ? b : a);

/** One answer of the scenario's request, saved to a file of its own: what its ceiling row sends. */
async function keepAnswer(port: number, request: BenchRequest, dir: string, n: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${request.paths?.[0] ?? request.path}`, {
    method: request.method ?? 'GET',
    ...(request.headers ? { headers: request.headers } : {}),
  });
  const body = Buffer.from(await response.arrayBuffer());
  if (!response.ok) throw new Error(`${request.path} answered ${response.status} when kept for its ceiling`);
  const file = path.join(dir, `answer-${n}.json`);
  writeFileSync(file, body);
  return file;
}

async function fire(
  port: number,
  request: BenchRequest,
  seconds: number,
  connections: number,
  pool: PathPool | undefined,
  taken: { n: number } = { n: 0 },
): Promise<Result> {
  const headers = { ...request.headers };
  if (request.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  // only the checkout flow reads answers (each next request is built from the last one)
  keepBodies(request.checkout !== undefined);
  const instance = autocannon({
    // always the local child: a scenario only chooses the path
    url: `http://127.0.0.1:${port}${request.path}`,
    connections,
    duration: seconds,
    method: request.method ?? 'GET',
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
    // a new path for every request, shared by all connections
    ...(pool ? { requests: [{ setupRequest: (spec) => ({ ...spec, path: pool.take() }) }] } : {}),
    ...(request.checkout ? { requests: checkoutRequests(request.checkout.buyers, taken) } : {}),
  });
  firing = instance;
  try {
    return await instance;
  } finally {
    firing = undefined;
  }
}

async function measure(
  child: Child,
  port: number,
  name: string,
  request: BenchRequest,
  options: ReturnType<typeof parseOptions>,
): Promise<Measurement> {
  // a measured scenario sends no request: its path is only a label
  if (request.measured) return measuredResult(child, name, request);
  const paths = request.paths ?? [];
  for (const p of [request.path, ...paths]) {
    if (!p.startsWith('/')) throw new Error(`a path must start with "/", got "${p}"`);
  }
  if (request.sse) return measureSse(child, port, name, request, progress);
  if (request.during) {
    if (options.warmup > 0) {
      progress(`${name}: warm-up ${options.warmup} s`);
      await fire(port, request, options.warmup, options.connections, undefined);
    }
    return measureDuring(
      child,
      name,
      request,
      () => fire(port, request, options.duration, options.connections, undefined),
      progress,
    );
  }
  const pool = paths.length > 0 ? new PathPool(paths) : undefined;
  // checkout buyers are used once across warm-up and measurement, like a path pool
  const taken = { n: 0 };
  if (options.warmup > 0) {
    progress(`${name}: warm-up ${options.warmup} s`);
    await fire(port, request, options.warmup, options.connections, pool, taken);
  }
  const before = await child.rss(true);
  const dbBefore = databaseCpu();
  progress(`${name}: measuring ${options.duration} s`);
  const from = Date.now();
  const result = await fire(port, request, options.duration, options.connections, pool, taken);
  const to = Date.now();
  const dbUs = databaseCpuBetween(dbBefore, databaseCpu());
  const rss = await child.rss(false);
  const m = toMeasurement(name, request, result, rss.peakRss, {
    total: rss.cpuUs - before.cpuUs,
    user: rss.cpuUserUs - before.cpuUserUs,
    ...(dbUs === undefined ? {} : { database: dbUs }),
  });
  if (child.gcTrace) m.gc = child.gcTrace.between(from, to);
  if (request.checkout) {
    const buyers = request.checkout.buyers.length;
    m.checkoutsPerSec = round(m.reqPerSec / CHECKOUT_REQUESTS, 1);
    if (taken.n > buyers && !m.flag) m.flag = `buyers used up (${buyers}, ${taken.n} checkouts started)`;
  }
  if (pool) {
    m.pathPool = { paths: paths.length, handedOut: pool.handedOut };
    if (pool.handedOut > paths.length && !m.flag) {
      m.flag = `path pool of ${paths.length} reused (${pool.handedOut} sent): repeats may be cache hits`;
    }
  }
  return m;
}

function progress(text: string): void {
  process.stderr.write(`  ${text}\n`);
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// run

let interrupted = false;
/** Read through a call: a signal handler sets `interrupted` while a measurement is awaited. */
const stillRunning = (): boolean => !interrupted;

function stopEverything(): Promise<unknown> {
  firing?.stop();
  return Promise.allSettled([...live].map((child) => child.stop()));
}

process.on('exit', () => {
  for (const child of live) child.killNow();
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130); // a second ctrl-c: the exit handler kills what is left
    interrupted = true;
    process.stderr.write(`\n${signal}: stopping the servers…\n`);
    void stopEverything().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const options = parseOptions();
  const startedAt = new Date();
  const loadBefore = os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  process.stderr.write(
    `bench: ${options.duration} s per scenario after ${options.warmup} s warm-up, ${options.connections} connections\n`,
  );

  // the baseline: same machine, nothing of Lectern on it; measured again at the end (below)
  process.stderr.write('bare Fastify (baseline, start of the run)\n');
  const bareAtStart = await measureBare(options);
  // what the headers alone cost, measured beside the baseline: the ceiling of the "× bare" goals
  process.stderr.write("bare Fastify with Lectern's response headers (reference)\n");
  const reference = await measureBare(options, 'headers');

  // pgbench on the same PostgreSQL, in the same run: the baseline of progress writes
  let pgbench: PgbenchResult | undefined;
  if (process.env.DATABASE_URL) {
    process.stderr.write('pgbench (TPC-B-like, scratch database)\n');
    try {
      pgbench = await measurePgbench(process.env.DATABASE_URL);
    } catch (err) {
      process.stderr.write(`pgbench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  process.stderr.write(
    `Lectern: starting (migrations, demo data${options.courses > 0 ? `, catalog up to ${options.courses} courses` : ''})\n`,
  );
  // seeding 100,000 courses takes about a minute on PostgreSQL; give slower machines room
  const profileDir = options.profile
    ? (mkdirSync(path.join(import.meta.dirname, 'results', 'profiles'), { recursive: true }),
      mkdtempSync(path.join(import.meta.dirname, 'results', 'profiles', 'run-')))
    : undefined;
  const server = new Child(
    'lectern',
    'server.ts',
    180_000 + options.courses * 10,
    // every progress report a write (none ignored as too soon): the write path is what is measured
    {
      // glibc as the image runs it (deploy/Dockerfile): a fixed mmap threshold, so argon2's 19 MB
      // blocks go back to the system instead of staying in a worker thread's arena
      MALLOC_MMAP_THRESHOLD_: '131072',
      ...process.env,
      BENCH_COURSES: String(options.courses),
      LEARNING_PROGRESS_INTERVAL_SECONDS: '0',
    },
    // Node's flags as `npm start` sets them (package.json), then the profiler's and the GC trace's
    [
      ...startFlags(),
      ...(profileDir ? ['--cpu-prof', '--cpu-prof-interval=200', `--cpu-prof-dir=${profileDir}`] : []),
      ...(options.gc ? ['--trace-gc'] : []),
    ],
    options.gc ? new GcTrace() : undefined,
  );
  const ready = await server.ready;
  const catalog = ready.catalog;
  if (catalog) {
    process.stderr.write(
      `catalog: ${catalog.courses} published courses` +
        (catalog.bulkSeeded > 0
          ? ` (${catalog.bulkSeeded} bulk-seeded in ${catalog.seedSeconds} s, vacuum ${catalog.vacuumSeconds} s)`
          : '') +
        '\n',
    );
  }
  const idle = await server.rss(false);
  const wanted = options.filter?.split(',').filter((t) => t.length > 0) ?? [];
  const names = ready.scenarios.filter((n) => wanted.length === 0 || wanted.some((t) => n.includes(t)));
  if (names.length === 0) {
    throw new Error(
      `no scenario matches "${options.filter ?? ''}"; there are: ${ready.scenarios.join(', ')}`,
    );
  }

  const scenarios: Measurement[] = [];
  // each "× bare" goal's answer, as its route sent it, for its ceiling row (below)
  const answersDir = mkdtempSync(path.join(os.tmpdir(), 'lectern-bench-answers-'));
  // however the run ends (ctrl-c exits from the signal handler)
  process.once('exit', () => {
    rmSync(answersDir, { recursive: true, force: true });
  });
  // Each "× bare" goal is judged against bare Fastify measured right before and right after it
  // (the faster of the two), not minutes away: the shared machine's speed drifts by a fifth
  // between the start and the end of a run. One measurement serves as the "after" of a goal and
  // the "before" of the next when nothing else ran between them. Between the goal and its
  // "after" runs its ceiling row: the reference answering that scenario's own answer, the most
  // the route could reach whatever it does before it sends those bytes. With --rounds N the
  // scenario and a baseline after it are measured N times; the goal is judged by the median round.
  // by row: the baselines measured right before and after it (a ceiling row: those of the first
  // round, between which it ran; a goal's row: those of its median round)
  const beside = new Map<Measurement, { before: Measurement; after: Measurement }>();
  const ceilings: { scenario: string; measurement: Measurement }[] = [];
  // the floor rows, by the scenario each was measured after (FLOORS)
  const floors: { scenario: string; measurement: Measurement }[] = [];
  let lastBare: Measurement | undefined;
  const bareNow = (why: string): Promise<Measurement> => {
    process.stderr.write(`bare Fastify (baseline, ${why})\n`);
    return measureBare(options);
  };
  // Likewise a goal held to a share of pgbench's tps gets pgbench right before and after it: the
  // one at the start of the run is minutes away (3,047 tps there, and progress writes at 0.34×
  // in a slow stretch that had met 0.55–0.82× in the runs before).
  const pgbenchBeside = new Map<string, { before: number; after: number }>();
  const databaseUrl = process.env.DATABASE_URL;
  const pgbenchNow = async (why: string): Promise<number | undefined> => {
    if (!pgbench || !databaseUrl) return undefined;
    process.stderr.write(`pgbench (${why})\n`);
    try {
      return (await measurePgbench(databaseUrl)).tps;
    } catch (err) {
      process.stderr.write(`pgbench failed: ${err instanceof Error ? err.message : String(err)}\n`);
      return undefined;
    }
  };
  for (const [i, name] of names.entries()) {
    let m: Measurement;
    const goal = hasRatioGoal(name);
    try {
      const request = await server.prepare(name);
      const before = goal ? (lastBare ?? (await bareNow(`before ${name}`))) : undefined;
      lastBare = undefined;
      const pgbenchBefore = hasPgbenchGoal(name) ? await pgbenchNow(`before ${name}`) : undefined;
      m = await measure(server, ready.port, name, request, options);
      m.loadAverage = round(os.loadavg()[0] ?? 0, 1);
      const pgbenchAfter = pgbenchBefore === undefined ? undefined : await pgbenchNow(`after ${name}`);
      if (pgbenchBefore !== undefined && pgbenchAfter !== undefined) {
        pgbenchBeside.set(name, { before: pgbenchBefore, after: pgbenchAfter });
      }
      const floor = databaseUrl ? FLOORS.find((f) => f.scenario.test(name)) : undefined;
      if (floor && !interrupted) {
        process.stderr.write(`${floor.name}\n`);
        const measured = await measureFloor(options, floor).catch((err: unknown) => failed(floor.name, err));
        floors.push({ scenario: name, measurement: measured });
      }
      if (before && !interrupted) {
        // no ceiling row rather than a failed scenario when the answer cannot be had again
        const file = await keepAnswer(ready.port, request, answersDir, i).catch(() => undefined);
        let ceiling: Measurement | undefined;
        if (file) {
          process.stderr.write(`bare Fastify with Lectern's headers, ${name}'s answer\n`);
          ceiling = await measureBare(options, 'headers', { file, of: name });
          ceilings.push({ scenario: name, measurement: ceiling });
        }
        const after = await bareNow(`after ${name}`);
        if (ceiling) beside.set(ceiling, { before, after });
        const rounds: Round[] = [{ scenario: m, before, after }];
        while (rounds.length < options.rounds && stillRunning()) {
          const again = await measure(server, ready.port, name, request, options);
          again.loadAverage = round(os.loadavg()[0] ?? 0, 1);
          const previous = rounds[rounds.length - 1] as Round;
          rounds.push({ scenario: again, before: previous.after, after: await bareNow(`after ${name}`) });
        }
        const median = medianRound(rounds);
        m = median.scenario;
        if (rounds.length > 1) m.roundRatios = rounds.map((r) => round(roundRatio(r), 3));
        lastBare = rounds[rounds.length - 1]?.after;
        beside.set(m, { before: median.before, after: median.after });
      }
    } catch (err) {
      if (interrupted) return;
      m = failed(name, err);
      // a failed scenario ran since the last baseline: the next goal gets a fresh "before"
      lastBare = undefined;
    }
    m.loadAverage ??= round(os.loadavg()[0] ?? 0, 1);
    scenarios.push(m);
  }
  const lifetime = await server.rss(false);
  // autocannon drops its sockets when time is up; let the requests still running end before
  // the database closes under them
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await server.stop();

  // A neighbour's burst during the one baseline measurement would make every ratio look better
  // than it is: bare Fastify is measured again now, and the ratios use the faster of the two.
  process.stderr.write('bare Fastify (baseline, end of the run)\n');
  const bareAtEnd = interrupted ? bareAtStart : await measureBare(options);
  const baseline = fasterOf(bareAtStart, bareAtEnd);
  const floorRows = floors.map((f) => f.measurement);
  for (const m of [reference, ...ceilings.map((c) => c.measurement), ...floorRows, ...scenarios]) {
    const pair = beside.get(m);
    const base = pair ? fasterOf(pair.before, pair.after) : baseline;
    // a rate of events or a push delay is no share of bare Fastify's requests
    m.ratios =
      m.rate || m.sse
        ? { reqPerSec: null, p99: null }
        : {
            reqPerSec: ratio(m.reqPerSec, base.reqPerSec),
            p99: ratio(m.latencyMs.p99, base.latencyMs.p99),
            cpu: ratio(m.cpuUsPerRequest, base.cpuUsPerRequest),
            cpuUser: ratio(m.cpuUserUsPerRequest, base.cpuUserUsPerRequest),
          };
    if (pair) m.besideBaseline = { before: pair.before.reqPerSec, after: pair.after.reqPerSec };
  }

  baseline.ratios = { reqPerSec: 1, p99: 1, cpu: 1, cpuUser: 1 };
  const rows = [baseline, reference, ...ceilings.map((c) => c.measurement), ...floorRows, ...scenarios];
  const components = ready.components ?? {};
  const goals = checkGoals({
    scenarios,
    database: components.database,
    peakRssMB: Math.max(0, ...scenarios.map((m) => m.peakRssMB)),
    // ready as `lectern serve` is ready: it listens once the app is built and makes the demo data
    // afterwards, where this harness makes it before listening (so `listening` includes it)
    readySeconds: ready.startup?.app,
    pgbenchTps: pgbench?.tps,
    pgbenchBeside: Object.fromEntries(pgbenchBeside),
    referenceRatio: reference.ratios.reqPerSec ?? undefined,
    floors: Object.fromEntries(floors.map((f) => [f.scenario, f.measurement])),
    ceilings: Object.fromEntries(
      ceilings.flatMap((c) =>
        c.measurement.ratios.reqPerSec === null ? [] : [[c.scenario, c.measurement.ratios.reqPerSec]],
      ),
    ),
  });
  const profileFile = profileDir ? mainThreadProfile(profileDir) : undefined;
  const profile = profileFile ? topFunctions(profileFile, 25) : undefined;
  if (profileDir && !profileFile) rmSync(profileDir, { recursive: true, force: true });
  process.stdout.write(
    `\nnode ${process.version}, ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ` +
      `db ${components.database ?? '?'}, cache ${components.cache ?? '?'}, bus ${components.bus ?? '?'}; ` +
      `${options.duration} s × ${options.connections} connections; Lectern idle RSS ${(idle.rss / MB).toFixed(1)} MB` +
      (idle.childrenPss > 0
        ? ` (of which the database processes' PSS ${(idle.childrenPss / MB).toFixed(1)} MB)`
        : '') +
      '\n' +
      (catalog
        ? `catalog: ${catalog.courses} published courses` +
          (catalog.bulkSeeded > 0
            ? ` (${catalog.bulkSeeded} added by --courses in ${catalog.seedSeconds} s, then VACUUM ANALYZE ${catalog.vacuumSeconds} s)`
            : options.courses > 0
              ? ` (none added: already ≥ --courses ${options.courses})`
              : '') +
          '\n'
        : '') +
      `load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} at the end (before the run: ${loadBefore})\n` +
      `bare Fastify: ${Math.round(bareAtStart.reqPerSec)} req/s at the start of the run (load ${bareAtStart.loadAverage}), ` +
      `${Math.round(bareAtEnd.reqPerSec)} at its end (load ${bareAtEnd.loadAverage}); the ratios use the ${baseline === bareAtEnd ? 'end' : 'start'}'s, the faster` +
      (beside.size > 0
        ? "; each × bare goal's row, the faster of its own measured right before and after it"
        : '') +
      '\n' +
      `× bare: req/s as a share of bare Fastify's (higher is better), p99 and CPU µs per request as multiples of its own (lower is better)\n\n` +
      `${table(rows)}\n` +
      (ready.startup
        ? `\nstart-up (s since process start): platform ${ready.startup.platform}, app ${ready.startup.app}, ` +
          `demo data ${ready.startup.seeded}, listening ${ready.startup.listening}` +
          (ready.startup.settled === null
            ? ", scenarios started without waiting for the demo data's backlog (BENCH_SETTLE=false)\n"
            : `, backlog of the demo data done ${ready.startup.settled}\n`)
        : '') +
      (pgbench
        ? `pgbench TPC-B-like on the same PostgreSQL: ${pgbench.tps.toFixed(0)} tps (${pgbench.clients} clients, ${pgbench.seconds} s)\n`
        : '') +
      `\ngoals (issues 9, 10, 11, 12):\n${goalTable(goals)}\n` +
      (options.gc
        ? `\ngarbage collection in the Lectern process, the measured seconds of each scenario (--gc):\n${scenarios
            .flatMap((m) => (m.gc ? [`  ${m.name}: ${gcText(m.gc, options.duration)}`] : []))
            .join('\n')}\n`
        : '') +
      (profile && profileFile
        ? `\nCPU profile of the Lectern process, top by self time (${path.relative(process.cwd(), profileFile)}):\n${profileTable(profile)}\n`
        : ''),
  );

  const file = path.join(
    import.meta.dirname,
    'results',
    `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`,
  );
  mkdirSync(path.dirname(file), { recursive: true });
  const commit = gitCommit();
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        ...(commit ? { commit } : {}),
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: os.availableParallelism(),
        cpuModel: os.cpus()[0]?.model,
        totalMemoryMB: Math.round(os.totalmem() / MB),
        db: components.database,
        components,
        durationSec: options.duration,
        warmupSec: options.warmup,
        connections: options.connections,
        loadAverage: {
          before: loadBefore,
          after: os
            .loadavg()
            .map((l) => l.toFixed(1))
            .join(' '),
        },
        filter: options.filter ?? null,
        coursesTarget: options.courses > 0 ? options.courses : null,
        catalog: catalog ?? null,
        startup: ready.startup ?? null,
        pgbench: pgbench ?? null,
        pgbenchBeside: Object.fromEntries(pgbenchBeside),
        goals,
        profile: profile ?? null,
        server: {
          idleRssMB: round(idle.rss / MB, 1),
          idleChildrenPssMB: round(idle.childrenPss / MB, 1),
          maxRssMB: round(lifetime.maxRss / MB, 1),
        },
        baseline,
        baselines: { start: bareAtStart, end: bareAtEnd },
        reference,
        ceilings,
        scenarios,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nresults: ${path.relative(process.cwd(), file)}\n`);

  const flagged = scenarios.filter((m) => m.flag?.startsWith('BROKEN') || m.error);
  if (flagged.length > 0) {
    process.stdout.write(
      `${flagged.length} scenario(s) broken or failed: ${flagged.map((m) => m.name).join(', ')}\n`,
    );
    process.exitCode = 1;
  }
}

main().then(
  () => {
    if (!interrupted) process.exit();
  },
  async (err: unknown) => {
    if (!interrupted)
      process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopEverything();
    process.exit(interrupted ? 130 : 1);
  },
);
