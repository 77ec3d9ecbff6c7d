// Shared by the processes bench/run.ts forks: RSS sampling, the IPC protocol, and stopping by
// itself when asked, on a signal, or when the parent goes away (the IPC channel closes).
import { readFileSync } from 'node:fs';
import type { BenchActResult, BenchRequest, FromChild, ReadyInfo, RssReport, ToChild } from './protocol.js';

export interface ChildHooks {
  /** Run a scenario's prepare step; only the Lectern server has scenarios. */
  prepare?: (name: string) => Promise<BenchRequest>;
  /** Run a scenario's `act` (sse and during scenarios). */
  act?: (name: string, round: number) => Promise<BenchActResult>;
  /** Graceful stop; the process exits when it settles (or after 10 s regardless). */
  stop: () => Promise<void>;
}

const STOP_TIMEOUT_MS = 10_000;

function send(message: FromChild): void {
  if (process.send && process.connected) process.send(message);
  // run by hand (no IPC): report as JSON lines on stdout
  else process.stdout.write(`${JSON.stringify(message)}\n`);
}

function errorText(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/**
 * Memory of this process's descendants (the embedded PostgreSQL server and its backends), as the
 * sum of their PSS: their shared memory (shared_buffers, the binaries) is counted once across them,
 * where adding up RSS would count it once per process. 0 without children or without Linux /proc.
 */
function childrenPss(pid = process.pid): number {
  let total = 0;
  let children: string[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return 0;
  }
  for (const child of children) {
    try {
      const pss = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child}/smaps_rollup`, 'utf8'));
      total += Number(pss?.[1] ?? 0) * 1024;
    } catch {
      // the process ended between the two reads
    }
    total += childrenPss(Number(child));
  }
  return total;
}

// the children's share is read once a second (a /proc walk), this process's RSS every 100 ms
let children = childrenPss();
let peakRss = process.memoryUsage.rss() + children;
let ticks = 0;
const sampler = setInterval(() => {
  if (++ticks % 10 === 0) children = childrenPss();
  const rss = process.memoryUsage.rss() + children;
  if (rss > peakRss) peakRss = rss;
}, 100);
sampler.unref();

function cpuUs(): { cpuUs: number; cpuUserUs: number } {
  const { user, system } = process.cpuUsage();
  return { cpuUs: user + system, cpuUserUs: user };
}

function rssReport(reset: boolean): RssReport {
  children = childrenPss();
  const rss = process.memoryUsage.rss() + children;
  const report = {
    peakRss: Math.max(peakRss, rss),
    rss,
    childrenPss: children,
    maxRss: process.resourceUsage().maxRSS * 1024,
    ...cpuUs(),
  };
  if (reset) peakRss = rss;
  return report;
}

/** Report a start-up failure to the parent and exit. */
export function fatal(err: unknown): never {
  send({ type: 'fatal', error: errorText(err) });
  process.stderr.write(`${errorText(err)}\n`);
  process.exit(1);
}

/** Install the stop handlers right away, so a child that is still starting also stops. */
export function childControl(hooks: ChildHooks): { ready(info: ReadyInfo): void } {
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    clearInterval(sampler);
    setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
    hooks
      .stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        process.stderr.write(`stop failed: ${errorText(err)}\n`);
        process.exit(1);
      });
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  process.once('disconnect', shutdown);

  process.on('message', (raw) => {
    const message = raw as ToChild;
    switch (message.type) {
      case 'stop':
        shutdown();
        break;
      case 'rss':
        send({ type: 'rss', id: message.id, ...rssReport(message.reset) });
        break;
      case 'prepare': {
        const { id, name } = message;
        if (!hooks.prepare) {
          send({ type: 'failed', id, error: 'this process has no scenarios' });
          break;
        }
        hooks.prepare(name).then(
          (request) => {
            send({ type: 'prepared', id, request });
          },
          (err: unknown) => {
            send({ type: 'failed', id, error: errorText(err) });
          },
        );
        break;
      }
      case 'act': {
        const { id, name, round } = message;
        if (!hooks.act) {
          send({ type: 'failed', id, error: 'this process has no scenarios' });
          break;
        }
        hooks.act(name, round).then(
          (result) => {
            send({ type: 'acted', id, result });
          },
          (err: unknown) => {
            send({ type: 'failed', id, error: errorText(err) });
          },
        );
        break;
      }
    }
  });

  if (!process.send) {
    // run by hand: print the peak once a second
    setInterval(() => {
      send({ type: 'rss', id: 0, ...rssReport(false) });
    }, 1000).unref();
  }

  return {
    ready(info) {
      send({ type: 'ready', ...info });
    },
  };
}
