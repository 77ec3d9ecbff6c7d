// `npm run bench`: load-test Lectern's scenarios against a bare Fastify baseline measured in the
// same run. Servers run in child processes (their own event loop, their own RSS); autocannon
// runs here and only ever targets 127.0.0.1. Prints a table and writes bench/results/<time>.json.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon, { type Instance, type Result } from 'autocannon';
import { Child, live } from './children.js';
import type { BenchRequest } from './protocol.js';
import { failed, MB, type Measurement, ratio, round, table, toMeasurement } from './report.js';

const usage = `Usage: npm run bench -- [options]

  --duration N      seconds measured per scenario (default 10)
  --warmup N        seconds of unmeasured load before each measurement (default 2)
  --connections N   concurrent connections (default 50)
  --filter TEXT     only scenarios whose name contains TEXT (the baseline always runs)
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
  };
}

// ---------------------------------------------------------------------------------------------
// load

let firing: Instance | undefined;

async function fire(
  port: number,
  request: BenchRequest,
  seconds: number,
  connections: number,
): Promise<Result> {
  const headers = { ...request.headers };
  if (request.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  const instance = autocannon({
    // always the local child: a scenario only chooses the path
    url: `http://127.0.0.1:${port}${request.path}`,
    connections,
    duration: seconds,
    method: request.method ?? 'GET',
    headers,
    ...(request.body === undefined ? {} : { body: request.body }),
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
  if (!request.path.startsWith('/')) throw new Error(`path must start with "/", got "${request.path}"`);
  if (options.warmup > 0) {
    progress(`${name}: warm-up ${options.warmup} s`);
    await fire(port, request, options.warmup, options.connections);
  }
  await child.rss(true);
  progress(`${name}: measuring ${options.duration} s`);
  const result = await fire(port, request, options.duration, options.connections);
  const rss = await child.rss(false);
  return toMeasurement(name, request, result, rss.peakRss);
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
  process.stderr.write(
    `bench: ${options.duration} s per scenario after ${options.warmup} s warm-up, ${options.connections} connections\n`,
  );

  // the baseline: same machine, same moment, nothing of Lectern on it
  process.stderr.write('bare Fastify (baseline)\n');
  const bare = new Child('bare-fastify', 'bare-fastify.ts', 30_000);
  const bareReady = await bare.ready;
  const baseline = await measure(bare, bareReady.port, 'bare-fastify', { path: '/' }, options);
  await bare.stop();

  process.stderr.write('Lectern: starting (migrations, demo data)\n');
  const server = new Child('lectern', 'server.ts', 180_000);
  const ready = await server.ready;
  const idle = await server.rss(false);
  const names = ready.scenarios.filter((n) => !options.filter || n.includes(options.filter));
  if (names.length === 0) {
    throw new Error(
      `no scenario matches "${options.filter ?? ''}"; there are: ${ready.scenarios.join(', ')}`,
    );
  }

  const scenarios: Measurement[] = [];
  for (const name of names) {
    let m: Measurement;
    try {
      const request = await server.prepare(name);
      m = await measure(server, ready.port, name, request, options);
    } catch (err) {
      if (interrupted) return;
      m = failed(name, err);
    }
    m.ratios = {
      reqPerSec: ratio(m.reqPerSec, baseline.reqPerSec),
      p99: ratio(m.latencyMs.p99, baseline.latencyMs.p99),
    };
    scenarios.push(m);
  }
  const lifetime = await server.rss(false);
  await server.stop();

  baseline.ratios = { reqPerSec: 1, p99: 1 };
  const rows = [baseline, ...scenarios];
  const components = ready.components ?? {};
  process.stdout.write(
    `\nnode ${process.version}, ${os.availableParallelism()} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ` +
      `db ${components.database ?? '?'}, cache ${components.cache ?? '?'}, bus ${components.bus ?? '?'}; ` +
      `${options.duration} s × ${options.connections} connections; Lectern idle RSS ${(idle.rss / MB).toFixed(1)} MB\n` +
      `× bare: req/s as a share of bare Fastify's (higher is better), p99 as a multiple of its p99 (lower is better)\n\n` +
      `${table(rows)}\n`,
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
        filter: options.filter ?? null,
        server: { idleRssMB: round(idle.rss / MB, 1), maxRssMB: round(lifetime.maxRss / MB, 1) },
        baseline,
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
