// Scenarios that are not one request hammered by autocannon: work the server measured itself
// (`measured`), Server-Sent Events received by real HTTP clients in this process (`sse`), and a
// request measured alone and then during background work (`during`). See bench/README.md.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Result } from 'autocannon';
import type { Child } from './children.js';
import type { BenchRequest } from './protocol.js';
import { type Measurement, quantile, ratio, round, type SseFigures, toMeasurement } from './report.js';

/** Epoch milliseconds with sub-millisecond precision, comparable between processes of one machine. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

function blank(name: string, request: BenchRequest, peakRss: number): Measurement {
  return {
    name,
    method: request.method ?? 'GET',
    path: request.path,
    reqPerSec: 0,
    latencyMs: { p50: 0, p90: 0, p99: 0, average: 0, max: 0 },
    responses: 0,
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    statusCodes: {},
    peakRssMB: round(peakRss / (1024 * 1024), 1),
    bytesPerResponse: 0,
    // not requests: no CPU per request to speak of
    cpuUsPerRequest: 0,
    cpuUserUsPerRequest: 0,
    ratios: { reqPerSec: null, p99: null },
  };
}

/** `measured`: what the server counted; req/s is its rate (items per second), no latency. */
export async function measuredResult(
  child: Child,
  name: string,
  request: BenchRequest,
): Promise<Measurement> {
  const measured = request.measured;
  if (!measured) throw new Error('not a measured scenario');
  const rss = await child.rss(false);
  const m = blank(name, request, rss.peakRss);
  const perSec = measured.seconds > 0 ? measured.count / measured.seconds : 0;
  m.reqPerSec = round(perSec, 1);
  m.rate = { ...measured, perSec: round(perSec, 1) };
  if (measured.note) m.flag = measured.note;
  return m;
}

interface Stream {
  request: http.ClientRequest;
  /** Chunks as they arrived, with their arrival time; parsed after the rounds. */
  chunks: [number, string][];
}

/**
 * One SSE client on a socket of its own (no agent pooling: a browser tab holds its own
 * connection). Resolves once the server's `: connected` comment arrived. While the rounds run a
 * chunk is only stamped and kept: parsing a thousand frames as they come would delay the stamps
 * of the next ones in this process and count our own work as the server's latency.
 */
function openStream(port: number, path: string, authorization: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const chunks: [number, string][] = [];
    let connected = false;
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        headers: { authorization, accept: 'text/event-stream' },
      },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`stream answered ${response.statusCode ?? '?'}`));
          response.resume();
          return;
        }
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          chunks.push([epochMs(), chunk]);
          if (!connected && chunk.includes(': connected')) {
            connected = true;
            resolve({ request, chunks });
          }
        });
      },
    );
    request.on('error', (err) => {
      if (!connected) reject(err);
    });
    request.end();
  });
}

/** Each round's item in a stream: the arrival time of the chunk that completed its frame. */
function receiptsOf(stream: Stream): Map<number, number> {
  const receipts = new Map<number, number>();
  let buffer = '';
  for (const [at, chunk] of stream.chunks) {
    buffer += chunk;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (!data || !frame.includes('event: notification')) continue;
      const round = (JSON.parse(data) as { data?: { round?: unknown } }).data?.round;
      if (typeof round === 'number' && !receipts.has(round)) receipts.set(round, at);
    }
  }
  return receipts;
}

/** Has every stream received a frame since `since`? (A cheap check while the rounds run.) */
const allReceivedSince = (streams: Stream[], since: number) =>
  streams.every((s) => (s.chunks.at(-1)?.[0] ?? 0) >= since);

const figures = (delays: number[]) => {
  const sorted = [...delays].sort((a, b) => a - b);
  return {
    p50: round(quantile(sorted, 0.5), 1),
    p99: round(quantile(sorted, 0.99), 1),
    max: round(sorted.at(-1) ?? 0, 1),
  };
};

/**
 * `sse`: open every stream, then for each round ask the server to push one new item to every
 * user (`act` answers when it published, epoch ms), wait for the receipts, and report the delays.
 */
export async function measureSse(
  child: Child,
  port: number,
  name: string,
  request: BenchRequest,
  progress: (text: string) => void,
): Promise<Measurement> {
  const sse = request.sse;
  if (!sse) throw new Error('not an sse scenario');
  const streams: Stream[] = [];
  progress(`${name}: opening ${sse.authorizations.length * sse.streamsPerUser} streams`);
  try {
    // a few at a time: a thousand connects at once measure the accept queue, not the push
    for (let i = 0; i < sse.streamsPerUser; i++) {
      for (let j = 0; j < sse.authorizations.length; j += 50) {
        const batch = sse.authorizations.slice(j, j + 50);
        streams.push(...(await Promise.all(batch.map((a) => openStream(port, request.path, a)))));
      }
    }
    await child.rss(true);
    const published: number[] = [];
    const started: number[] = [];
    for (let r = 0; r < sse.rounds; r++) {
      progress(`${name}: round ${r + 1} of ${sse.rounds}`);
      const asked = epochMs();
      const result = await child.act(name, r);
      published.push(result.publishedAt ?? Number.NaN);
      started.push(result.startedAt ?? Number.NaN);
      // a chunk on every stream since the act was asked, or 5 s; then a pause before the next round
      const deadline = Date.now() + 5000;
      while (!allReceivedSince(streams, asked) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    const fromPublish: number[] = [];
    const fromStart: number[] = [];
    for (const s of streams) {
      for (const [r, at] of receiptsOf(s)) {
        fromPublish.push(at - (published[r] ?? Number.NaN));
        fromStart.push(at - (started[r] ?? Number.NaN));
      }
    }
    const rss = await child.rss(false);
    const m = blank(name, request, rss.peakRss);
    const out: SseFigures = {
      clients: streams.length,
      rounds: sse.rounds,
      expected: streams.length * sse.rounds,
      received: fromPublish.length,
      publishToReceiptMs: figures(fromPublish),
      actToReceiptMs: figures(fromStart),
    };
    m.sse = out;
    m.responses = out.received;
    m.latencyMs = {
      p50: out.publishToReceiptMs.p50,
      p90: round(
        quantile(
          [...fromPublish].sort((a, b) => a - b),
          0.9,
        ),
        1,
      ),
      p99: out.publishToReceiptMs.p99,
      average: round(fromPublish.reduce((a, b) => a + b, 0) / Math.max(1, fromPublish.length), 1),
      max: out.publishToReceiptMs.max,
    };
    if (out.received < out.expected) m.flag = `BROKEN: ${out.expected - out.received} receipts missing`;
    else
      m.flag = `${out.clients} streams × ${out.rounds} rounds; from the act's start p99 ${out.actToReceiptMs.p99} ms`;
    return m;
  } finally {
    for (const s of streams) s.request.destroy();
  }
}

/**
 * `during`: the request alone, then again while the server runs the scenario's act (started as
 * the measurement starts); p99 during against p99 alone.
 */
export async function measureDuring(
  child: Child,
  name: string,
  request: BenchRequest,
  load: () => Promise<Result>,
  progress: (text: string) => void,
): Promise<Measurement> {
  const during = request.during;
  if (!during) throw new Error('not a during scenario');
  progress(`${name}: measuring alone`);
  await child.rss(true);
  const alone = await load();
  progress(`${name}: measuring during ${during.label}`);
  const before = await child.rss(true);
  const acting = child.act(name, 0);
  const [busy, act] = await Promise.all([load(), acting]);
  const rss = await child.rss(false);
  // the CPU of the fan-out counts too: it is what the requests shared the process with
  const m = toMeasurement(name, request, busy, rss.peakRss, {
    total: rss.cpuUs - before.cpuUs,
    user: rss.cpuUserUs - before.cpuUserUs,
  });
  m.during = {
    label: during.label,
    aloneP99: alone.latency.p99,
    aloneReqPerSec: alone.requests.average,
    p99Ratio: ratio(busy.latency.p99, alone.latency.p99),
    act,
  };
  return m;
}
