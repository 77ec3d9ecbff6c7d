// Load-balancer integration run: three `node dist/cli.js serve` instances on loopback ports behind
// nginx, rendered from the gateway route map. Prints each strategy's distribution, the failed
// share when an instance is killed under load, and a rolling restart. Run by deploy/test/lb.sh
// (which builds dist/ and skips when nginx is missing); needs DATABASE_URL, REDIS_URL, NATS_URL.
// Installs nothing. One database, stream and key prefix of its own, removed at the end.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { FAIL_TIMEOUT_SECONDS, renderNginxConfig } from '../../src/gateway/nginx.js';
import type { BalancingStrategy, ServiceName } from '../../src/gateway/route-map.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
};
const databaseUrl = env('DATABASE_URL');
const redisUrl = env('REDIS_URL');
const natsUrl = env('NATS_URL');
// not NGINX: nginx itself reads that variable (inherited sockets)
const nginxBin = process.env.NGINX_BIN ?? 'nginx';
const tag = randomBytes(4).toString('hex');
const dbName = `lectern_lb_${tag}`;
const stream = `LECTERN_LB_${tag}`;
const subjectPrefix = `lectern_lb_${tag}`;
const redisPrefix = `lectern-lb-${tag}:`;
const basePort = 20000 + Math.floor(Math.random() * 20000);
const nginxPort = basePort;
const SLOW_MS = 40;
const PATH = '/api/v1/categories';

interface Instance {
  name: string;
  port: number;
  env: NodeJS.ProcessEnv;
  child?: ChildProcess;
  log: string[];
}

const started = Date.now();
const t = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const say = (line: string) => process.stdout.write(`[${t()}] ${line}\n`);
const load = () =>
  loadavg()
    .map((n) => n.toFixed(2))
    .join(' ');

let work = '';
let nginx: ChildProcess | undefined;
const instances: Instance[] = [];
const summary: string[][] = [];
/** Each run's goal, checked at the end: a missed one makes the script fail. */
const goals: { goal: string; met: boolean }[] = [];
const expectGoal = (goal: string, met: boolean) => goals.push({ goal, met });

function dbUrl(name: string): string {
  const u = new URL(databaseUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

async function admin(query: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(query);
  } finally {
    await client.end();
  }
}

function instanceEnv(dataDir: string, port: number, slow: boolean): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: dbUrl(dbName),
    DATABASE_POOL_SIZE: '4',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    NATS_URL: natsUrl,
    NATS_STREAM: stream,
    NATS_SUBJECT_PREFIX: subjectPrefix,
    LOG_LEVEL: 'warn',
    SEED_DEMO: 'false',
    TRUST_PROXY: 'true',
    // the per-client limit would stop a load test that comes from a few addresses
    RATE_LIMIT_MAX: '1000000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    ...(slow ? { DEBUG_RESPONSE_DELAY_MS: String(SLOW_MS) } : {}),
  };
}

async function ready(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`instance on ${port} not ready within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function startInstance(instance: Instance): Promise<void> {
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--no-worker'], {
    cwd: root,
    env: instance.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  instance.child = child;
  child.stdout.on('data', (c: Buffer) => instance.log.push(c.toString()));
  child.stderr.on('data', (c: Buffer) => instance.log.push(c.toString()));
  try {
    await ready(instance.port);
  } catch (err) {
    process.stderr.write(instance.log.join(''));
    throw err;
  }
}

async function stopInstance(instance: Instance, signal: NodeJS.Signals): Promise<number | null> {
  const child = instance.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  child.kill(signal);
  return exited;
}

async function startNginx(strategy: BalancingStrategy, rate?: { perSecond: number; burst: number }) {
  await stopNginx();
  const servers = instances.map((i) => `127.0.0.1:${i.port}`);
  const pools = { servers, strategy };
  const brotli = '/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so';
  const conf = renderNginxConfig({
    listen: `127.0.0.1:${nginxPort}`,
    pools: { identity: pools, catalog: pools, core: pools, notify: pools } satisfies Record<
      ServiceName,
      typeof pools
    >,
    workerProcesses: 1,
    // passive checks as in production, shortened so the run fits in two minutes
    maxFails: 1,
    failTimeoutSeconds: 3,
    rateLimit: rate ?? { perSecond: 100_000, burst: 100_000 },
    brotliModule: existsSync(brotli) ? brotli : undefined,
    exposeUpstream: true,
    paths: { pid: `${work}/nginx.pid`, errorLog: `${work}/nginx-error.log`, tempDir: work },
  });
  const file = `${work}/nginx.conf`;
  await writeFile(file, conf);
  await run(nginxBin, ['-t', '-q', '-p', work, '-c', file]);
  nginx = spawn(nginxBin, ['-p', work, '-c', file, '-g', 'daemon off;'], { stdio: 'inherit' });
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${nginxPort}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return;
    await sleep(50);
  }
  throw new Error('nginx did not start');
}

async function stopNginx(): Promise<void> {
  const child = nginx;
  nginx = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGQUIT');
  await exited;
}

interface Answer {
  status: number;
  upstream: string;
}

/** One GET through nginx from a given loopback source address; status 0 is a network failure. */
function get(agent: http.Agent, localAddress = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port: nginxPort, path: PATH, agent, localAddress, timeout: 15_000 },
      (res) => {
        res.resume();
        res.on('end', () => {
          // after a retry nginx lists every upstream it tried; the last one answered
          const tried = String(res.headers['x-upstream'] ?? '').split(',');
          resolve({ status: res.statusCode ?? 0, upstream: (tried.at(-1) ?? '').trim() });
        });
        res.on('error', () => {
          resolve({ status: 0, upstream: '' });
        });
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error('timeout'));
    });
    req.on('error', () => {
      resolve({ status: 0, upstream: '' });
    });
  });
}

const nameOf = (upstream: string) =>
  instances.find((i) => upstream.endsWith(`:${i.port}`))?.name ?? (upstream || '-');

/** `total` requests over `concurrency` keep-alive connections; answers in completion order. */
async function burst(total: number, concurrency: number, localAddress?: string): Promise<Answer[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const answers: Answer[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        answers.push(await get(agent, localAddress));
      }
    }),
  );
  agent.destroy();
  return answers;
}

/** Steady load until `stop` resolves; counts what was sent and what failed (not 2xx). */
async function steadyLoad(concurrency: number, stop: Promise<unknown>) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let done = false;
  void stop.then(() => {
    done = true;
  });
  const failures: Answer[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!done) {
        sent += 1;
        const answer = await get(agent);
        if (answer.status < 200 || answer.status > 299) failures.push(answer);
      }
    }),
  );
  agent.destroy();
  return { sent, failed: failures.length, failures };
}

function distribution(answers: Answer[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(instances.map((i) => [i.name, 0]));
  for (const a of answers) {
    const name = a.status === 200 ? nameOf(a.upstream) : `status ${a.status}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const percent = (n: number, total: number) => `${((100 * n) / Math.max(total, 1)).toFixed(1)}%`;

function row(what: string, sent: number, counts: Record<string, number>, note: string) {
  const cells = instances.map((i) => `${counts[i.name] ?? 0} (${percent(counts[i.name] ?? 0, sent)})`);
  const failed = sent - instances.reduce((n, i) => n + (counts[i.name] ?? 0), 0);
  summary.push([what, String(sent), ...cells, String(failed), note, load()]);
  say(`${what}: ${cells.join(' | ')} failed ${failed} — ${note} (load ${load()})`);
}

async function roundRobin() {
  await startNginx('round_robin');
  const answers = await burst(900, 9);
  const counts = distribution(answers);
  const shares = instances.map((i) => (counts[i.name] ?? 0) / answers.length);
  const spread = (Math.max(...shares) - Math.min(...shares)) * 100;
  row('round robin', answers.length, counts, `max-min share ${spread.toFixed(1)} points`);
  expectGoal('round robin: shares within 5 points of each other', spread <= 5);
}

async function ipHash() {
  await startNginx('ip_hash');
  // nginx's ip_hash keys IPv4 clients on their first three octets, so each client is its own /24
  const clients = Array.from({ length: 12 }, (_, i) => `127.0.${i + 1}.1`);
  const all: Answer[] = [];
  let sticky = 0;
  const placed: string[] = [];
  for (const client of clients) {
    const answers = await burst(30, 3, client);
    all.push(...answers);
    const seen = new Set(answers.map((a) => nameOf(a.upstream)));
    if (seen.size === 1 && answers.every((a) => a.status === 200)) sticky += 1;
    placed.push(`${client}→${[...seen].join('+')}`);
  }
  say(`ip_hash placement: ${placed.join(' ')}`);
  row('ip hash', all.length, distribution(all), `${sticky}/${clients.length} clients always on one instance`);
  expectGoal('ip hash: every client address always on the same instance', sticky === clients.length);
}

async function leastConn() {
  await startNginx('least_conn');
  const answers = await burst(900, 12);
  const counts = distribution(answers);
  row('least conn', answers.length, counts, `instance c slowed by ${SLOW_MS} ms per request`);
  const slow = counts.c ?? 0;
  expectGoal('least conn: the slowed instance gets the least', slow < Math.min(counts.a ?? 0, counts.b ?? 0));
}

async function killUnderLoad() {
  await startNginx('round_robin');
  const victim = instances[1];
  if (!victim) throw new Error('no instance b');
  const stop = (async () => {
    await sleep(2_500);
    say(`SIGKILL ${victim.name} (port ${victim.port})`);
    await stopInstance(victim, 'SIGKILL');
    await sleep(4_000);
  })();
  const result = await steadyLoad(12, stop);
  summary.push([
    'kill one under load',
    String(result.sent),
    '',
    '',
    '',
    String(result.failed),
    `failed share ${percent(result.failed, result.sent)} (goal < 0.1%)`,
    load(),
  ]);
  expectGoal('kill under load: failed share < 0.1%', result.failed / Math.max(result.sent, 1) < 0.001);
  say(
    `kill under load: sent ${result.sent}, failed ${result.failed} (${percent(result.failed, result.sent)})`,
  );
  if (result.failures.length > 0) say(`failures: ${JSON.stringify(result.failures.slice(0, 5))}`);
  await startInstance(victim);
}

async function rollingRestart() {
  await startNginx('round_robin');
  const stop = (async () => {
    await sleep(1_000);
    for (const instance of instances) {
      const started = Date.now();
      const code = await stopInstance(instance, 'SIGTERM');
      await startInstance(instance);
      say(
        `restarted ${instance.name}: exit code ${String(code)}, ready again after ${Date.now() - started} ms`,
      );
      // nginx keeps the instance out for fail_timeout after its failed tries: wait until it is
      // back in the pool before taking the next one down
      if (instance !== instances.at(-1)) await sleep(FAIL_TIMEOUT_SECONDS * 1000);
    }
    await sleep(1_000);
  })();
  const result = await steadyLoad(8, stop);
  summary.push([
    'rolling restart (SIGTERM)',
    String(result.sent),
    '',
    '',
    '',
    String(result.failed),
    `failed share ${percent(result.failed, result.sent)} (goal 0)`,
    load(),
  ]);
  expectGoal('rolling restart: no failed request', result.failed === 0);
  say(`rolling restart: sent ${result.sent}, failed ${result.failed}`);
  if (result.failures.length > 0) say(`failures: ${JSON.stringify(result.failures.slice(0, 5))}`);
}

async function perIpLimit() {
  // the production default of the renderer: 20 r/s with a burst of 40, per client address
  await startNginx('round_robin', { perSecond: 20, burst: 40 });
  const answers = await burst(200, 20);
  const limited = answers.filter((a) => a.status === 429).length;
  summary.push([
    'limit_req 20 r/s burst 40',
    String(answers.length),
    '',
    '',
    '',
    '',
    `${limited} answered 429 by nginx`,
    load(),
  ]);
  expectGoal('limit_req: a burst over the limit is answered 429', limited > 0 && limited < answers.length);
  say(`limit_req: ${limited} of ${answers.length} got 429`);
}

/** One request through nginx with the given headers: status, content type and coding. */
async function probe(pathname: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; type: string; coding: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: nginxPort, path: pathname, headers }, (res) => {
        res.resume();
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'] ?? '',
            coding: res.headers['content-encoding'] ?? 'identity',
          });
        });
      })
      .on('error', reject);
  });
}

async function gatewayChecks() {
  await startNginx('round_robin');
  const brotli = existsSync('/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so');
  const unrouted = await probe('/nowhere');
  const metrics = await probe('/metrics');
  const gzip = await probe('/openapi.json', { 'accept-encoding': 'gzip' });
  const br = await probe('/openapi.json', { 'accept-encoding': 'br' });
  const note = [
    `unrouted ${unrouted.status} ${unrouted.type}`,
    `/metrics ${metrics.status}`,
    `gzip→${gzip.coding}`,
    `br→${br.coding}${brotli ? '' : ' (no brotli module)'}`,
  ].join(', ');
  summary.push(['gateway checks', '4', '', '', '', '', note, load()]);
  say(`gateway: ${note}`);
  expectGoal(
    'gateway: unrouted paths and /metrics are 404 problem+json; JSON is compressed',
    unrouted.status === 404 &&
      unrouted.type.startsWith('application/problem+json') &&
      metrics.status === 404 &&
      gzip.coding === 'gzip' &&
      br.coding === (brotli ? 'br' : 'identity'),
  );
}

function printSummary() {
  const head = [
    'run',
    'sent',
    ...instances.map((i) => `${i.name} (:${i.port})`),
    'failed',
    'note',
    'load 1/5/15',
  ];
  const rows = [head, ...summary];
  const widths = head.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  process.stdout.write(`\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n`);
  for (const r of summary) process.stdout.write(`${line(r)}\n`);
  process.stdout.write(`\ntotal time ${t()}, nginx workers 1, instances ${instances.length}\n\n`);
  for (const g of goals) process.stdout.write(`${g.met ? 'met   ' : 'MISSED'}  ${g.goal}\n`);
}

async function cleanup() {
  await stopNginx().catch(() => undefined);
  await Promise.all(instances.map((i) => stopInstance(i, 'SIGTERM').catch(() => undefined)));
  await admin(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
  const nc = await connect({ servers: natsUrl }).catch(() => undefined);
  if (nc) {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    await nc.close();
  }
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis
    .connect()
    .then(async () => {
      const keys = await redis.keys(`${redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    })
    .catch(() => undefined);
  redis.disconnect();
  if (work) await rm(work, { recursive: true, force: true });
}

async function main() {
  work = await mkdtemp(path.join(tmpdir(), 'lectern-lb-'));
  await mkdir(`${work}/logs`);
  say(`nginx: ${(await run(nginxBin, ['-v'])).stderr.trim()}; load ${load()}`);
  await admin(`create database ${dbName}`);
  const dataDir = `${work}/data`;
  await mkdir(dataDir);
  // one migration run up front, as a deployment's release step would do
  await run(process.execPath, ['dist/cli.js', 'migrate'], { cwd: root, env: instanceEnv(dataDir, 0, false) });
  for (const [i, name] of ['a', 'b', 'c'].entries()) {
    const port = basePort + 1 + i;
    instances.push({ name, port, env: instanceEnv(dataDir, port, name === 'c'), log: [] });
  }
  await Promise.all(instances.map(startInstance));
  say(`instances ready on ${instances.map((i) => i.port).join(', ')} (c answers ${SLOW_MS} ms late)`);
  await roundRobin();
  await ipHash();
  await leastConn();
  await killUnderLoad();
  await rollingRestart();
  await perIpLimit();
  await gatewayChecks();
  printSummary();
}

main()
  .then(cleanup)
  .then(() => {
    if (goals.some((g) => !g.met)) process.exit(1);
  })
  .catch(async (err: unknown) => {
    process.stderr.write(
      `lb test failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    const errors = await readFile(`${work}/nginx-error.log`, 'utf8').catch(() => '');
    if (errors) process.stderr.write(`nginx error log:\n${errors}\n`);
    await cleanup();
    process.exit(1);
  });
