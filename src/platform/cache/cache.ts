import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/**
 * One cache interface with two implementations: Redis (shared by every instance) and an
 * in-process LRU for the embedded default. Values are JSON.
 */
export interface Cache {
  kind: 'redis' | 'memory';
  get<T>(key: string): Promise<T | undefined>;
  /** The value at once, without a promise: only a cache held in this process (memory) has it. */
  peek?(key: string): unknown;
  set(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  del(...keys: string[]): Promise<void>;
  /** Atomically add `by` and return the new value; the key expires `ttlSeconds` after creation. */
  incr(key: string, ttlSeconds: number, by?: number): Promise<number>;
  /** The Redis client, for libraries that need one (rate limits); undefined in memory mode. */
  redis?: Redis;
  ping(): Promise<void>;
  close(): Promise<void>;
  describe(): string;
}

/** What the in-memory cache may hold, keys and JSON, before it drops the least recently used. */
export const MEMORY_CACHE_BYTES = 32 * 1024 * 1024;

export function createCache(options: {
  redisUrl?: string | undefined;
  keyPrefix?: string;
  /** The in-memory cache's bound (default MEMORY_CACHE_BYTES); Redis bounds itself. */
  memoryBytes?: number;
}): Cache {
  return options.redisUrl
    ? redisCache(options.redisUrl, options.keyPrefix ?? '')
    : memoryCache(options.memoryBytes ?? MEMORY_CACHE_BYTES);
}

function redisCache(url: string, prefix: string): Cache {
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, keyPrefix: prefix });
  // connection errors surface on the next command and in /readyz; an unhandled 'error' event
  // would otherwise crash the process while Redis restarts
  redis.on('error', () => undefined);
  const u = new URL(url);
  return {
    kind: 'redis',
    redis,
    async get<T>(key: string) {
      const raw = await redis.get(key);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
    async set(key, value, ttlSeconds) {
      await redis.set(key, JSON.stringify(value), 'EX', Math.max(1, Math.ceil(ttlSeconds)));
    },
    async del(...keys) {
      if (keys.length > 0) await redis.del(...keys);
    },
    async incr(key, ttlSeconds, by = 1) {
      const [[, value] = []] = (await redis
        .multi()
        .incrby(key, by)
        .expire(key, Math.max(1, Math.ceil(ttlSeconds)), 'NX')
        .exec()) ?? [[]];
      return Number(value);
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => {
        redis.disconnect();
      });
    },
    describe: () => `Redis at ${u.hostname}:${u.port || '6379'}`,
  };
}

interface Entry {
  json: string;
}

function memoryCache(maxBytes: number): Cache {
  // bounded in bytes as well as entries: 50,000 cached course lists of 15 KB each would be 750 MB
  const lru = new LRUCache<string, Entry>({
    max: 50_000,
    maxSize: maxBytes,
    // V8 keeps ASCII strings at a byte a character; the 64 is the entry's own objects
    sizeCalculation: (entry, key) => entry.json.length + key.length + 64,
    ttlAutopurge: false,
  });
  const peek = (key: string): unknown => {
    const entry = lru.get(key);
    return entry === undefined ? undefined : JSON.parse(entry.json);
  };
  return {
    kind: 'memory',
    get: <T>(key: string) => Promise.resolve(peek(key) as T | undefined),
    peek,
    set(key, value, ttlSeconds) {
      lru.set(key, { json: JSON.stringify(value) }, { ttl: ttlSeconds * 1000 });
      return Promise.resolve();
    },
    del(...keys) {
      for (const key of keys) lru.delete(key);
      return Promise.resolve();
    },
    incr(key, ttlSeconds, by = 1) {
      const entry = lru.get(key);
      const next = (entry ? Number(JSON.parse(entry.json)) : 0) + by;
      // keep the original expiry: the window starts at the first increment
      const remaining = entry ? lru.getRemainingTTL(key) : ttlSeconds * 1000;
      lru.set(key, { json: JSON.stringify(next) }, { ttl: Math.max(1, remaining) });
      return Promise.resolve(next);
    },
    ping: () => Promise.resolve(),
    close: () => {
      lru.clear();
      return Promise.resolve();
    },
    describe: () => 'in-memory cache (this instance only)',
  };
}
