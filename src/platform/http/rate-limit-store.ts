import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/**
 * A fixed-window request counter per client for `@fastify/rate-limit`, counted in process.
 *
 * With Redis, every instance adds its local counts to one Redis counter per client and window
 * in a batch every `syncMs` (one pipelined script call for all clients with new requests),
 * instead of one Redis round trip per request. A client's first request on an instance (or the
 * first after its window ended) still waits for Redis, so a limit reached elsewhere is known at
 * once. Error bound: between two syncs an instance does not see the other instances' new
 * requests, so a client spreading requests over N instances can get at most the requests it
 * sends to the other N − 1 instances during one sync interval (plus one in-flight sync) beyond
 * the limit; on one instance the count is exact. After its last batch an instance reads the
 * shared count twice more, so instances that go quiet agree within three intervals. When Redis is unreachable each instance goes
 * on limiting with its own counts (stricter than letting everything through) and adds them to
 * Redis once it is back.
 */
export interface RateLimitStoreOptions {
  redis?: Redis | undefined;
  /** Key prefix in Redis. */
  nameSpace?: string;
  /** Milliseconds between two batches sent to Redis. */
  syncMs?: number;
  /** Clients remembered per store; the oldest window is dropped beyond this. */
  maxKeys?: number;
}

export interface RateLimitStores {
  /** For the `store` option of `@fastify/rate-limit`. */
  Store: FastifyRateLimitStoreCtor;
  /** Send every pending count to Redis now (tests, shutdown). */
  sync(): Promise<void>;
  /** Stop the timer and send what is pending; call before the Redis client closes. */
  stop(): Promise<void>;
}

interface Window {
  /** Requests in this window as Redis last told us (all instances), or counted here without Redis. */
  count: number;
  /** Requests counted here and not yet added to Redis. */
  pending: number;
  /** Epoch ms at which the window ends. */
  end: number;
  /** Syncs still to make without new requests, to learn what the other instances added meanwhile. */
  rereads: number;
  /** Set while the window's first sync is in flight. */
  first: Promise<void> | undefined;
  syncing: boolean;
}

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

// INCRBY the batch and give the window its expiry when this created it; returns count and ms left
const SYNC_SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {n, ttl}`;
const COMMAND = 'lecternRateLimitSync';

/** The script as an ioredis custom command (defineCommand adds it at run time, untyped). */
type SyncCommand = (key: string, delta: number, windowMs: number) => Promise<[number, number]>;

const DEFAULT_SYNC_MS = 100;
const DEFAULT_MAX_KEYS = 10_000;
const REREADS = 2;

export function createRateLimitStores(options: RateLimitStoreOptions = {}): RateLimitStores {
  const { redis } = options;
  const nameSpace = options.nameSpace ?? 'lectern-rl:';
  const syncMs = options.syncMs ?? DEFAULT_SYNC_MS;
  const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
  const counters = new Set<WindowCounter>();
  let command: SyncCommand | undefined;
  if (redis) {
    if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 1, lua: SYNC_SCRIPT });
    const fn = (redis as unknown as Record<string, SyncCommand>)[COMMAND];
    command = fn?.bind(redis);
  }

  class WindowCounter implements FastifyRateLimitStore {
    private readonly windows = new Map<string, Window>();

    constructor(private readonly prefix: string) {
      counters.add(this);
    }

    incr(key: string, callback: IncrCallback, timeWindow: number, _max: number): void {
      const now = Date.now();
      let w = this.windows.get(key);
      if (w && w.end <= now) {
        this.windows.delete(key);
        w = undefined;
      }
      if (!w) {
        w = this.open(key, now, timeWindow);
      } else if (command) {
        w.pending++;
      } else {
        w.count++;
      }
      const window = w;
      const answer = () => {
        callback(null, { current: window.count + window.pending, ttl: window.end - Date.now() });
      };
      if (window.first) {
        window.first.then(answer, answer);
        return;
      }
      answer();
    }

    /**
     * A route with limits of its own counts apart. The plugin's typings say it passes the route's
     * options; at run time it passes its merged parameters with the route as `routeInfo`.
     */
    child(routeOptions: object): FastifyRateLimitStore {
      const info = (routeOptions as { routeInfo?: { method?: unknown; url?: unknown } }).routeInfo;
      const method = typeof info?.method === 'string' ? info.method : '';
      const url = typeof info?.url === 'string' ? info.url : '';
      return new WindowCounter(`${this.prefix}${method}${url}-`);
    }

    private open(key: string, now: number, timeWindow: number): Window {
      if (this.windows.size >= maxKeys) this.evict();
      const w: Window = {
        count: 0,
        pending: 0,
        end: now + timeWindow,
        rereads: 0,
        first: undefined,
        syncing: false,
      };
      this.windows.set(key, w);
      if (!command) {
        w.count = 1;
        return w;
      }
      w.pending = 1;
      w.first = this.syncWindow(key, w, timeWindow).finally(() => {
        w.first = undefined;
      });
      return w;
    }

    /**
     * Drop the oldest window (its unsent counts are lost). Ended windows go at each sync; no scan
     * here, so a flood of new clients costs the same per request however many are remembered.
     */
    private evict(): void {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }

    async syncWindow(key: string, w: Window, timeWindow: number): Promise<void> {
      if (!command || w.syncing || (w.pending === 0 && w.rereads === 0)) return;
      const delta = w.pending;
      w.syncing = true;
      try {
        const [count, ttl] = await command(nameSpace + this.prefix + key, delta, timeWindow);
        w.count = count;
        // what was counted here while the batch was on its way stays pending for the next one
        w.pending -= delta;
        w.end = Date.now() + ttl;
        // after sending, read twice more (two intervals cover the other instances' next batch),
        // so an instance that goes quiet still converges on the shared count
        w.rereads = delta > 0 ? REREADS : Math.max(0, w.rereads - 1);
      } catch {
        // Redis unreachable: the counts stay pending and this instance limits on its own
      } finally {
        w.syncing = false;
      }
    }

    async sync(): Promise<void> {
      const now = Date.now();
      const batch: Promise<void>[] = [];
      for (const [key, w] of this.windows) {
        if (w.end <= now) {
          this.windows.delete(key);
          continue;
        }
        if ((w.pending > 0 || w.rereads > 0) && !w.first) batch.push(this.syncWindow(key, w, w.end - now));
      }
      await Promise.all(batch);
    }
  }

  const syncAll = async () => {
    await Promise.all([...counters].map((c) => c.sync()));
  };
  // one timer for every route's counter; unref'd so it never keeps the process alive
  const timer = setInterval(() => void syncAll(), syncMs);
  timer.unref();

  return {
    Store: class extends WindowCounter {
      constructor() {
        super('');
      }
    },
    sync: syncAll,
    async stop() {
      clearInterval(timer);
      await syncAll();
    },
  };
}
