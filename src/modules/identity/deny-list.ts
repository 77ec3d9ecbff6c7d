import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Cache } from '../../platform/cache/cache.js';

/**
 * The deny marks (`identity:deny:*`, `identity:void-before:*`) as every guarded request reads
 * them. On the in-memory cache they are read from it (a map lookup). On Redis each instance keeps
 * a copy in memory, fed by pub/sub, so a request reads no Redis at all while the copy is known
 * to be fresh:
 *
 * - a mark is written to Redis (the shared truth, with its TTL), then published; every instance,
 *   the writer at once, adds it to its copy;
 * - the copy is trusted only while this instance's own heartbeat, published every quarter of
 *   `boundMs`, came back through the subscription less than `boundMs` after it was sent. Redis
 *   delivers one channel's messages in the order it took them, so a heartbeat coming back proves
 *   every mark published before it arrived. Hence the bound: a mark published at t is seen by
 *   every request that starts after t + `boundMs` on any instance (on the writer, at once);
 * - when the subscription drops, stalls or has not caught up, each read goes to Redis, as it
 *   did before the copy existed; after (re)subscribing, the copy is refilled from Redis (SCAN)
 *   before it is trusted again, so marks published while it was down are not lost.
 *
 * Marks only ever grow (a session denied stays denied, a void-before second only moves on) and
 * expire with their TTL, so the copy merges by keeping the larger value.
 */
export interface DenyList {
  /** The marks' values (undefined where none), in the order of `keys`. */
  read(keys: readonly string[]): unknown[] | Promise<unknown[]>;
  /** Write a mark everywhere; resolves once it is in Redis and published. */
  write(key: string, value: number | boolean, ttlSeconds: number): Promise<void>;
  /** Is this instance answering from its copy right now (false: every read goes to the cache)? */
  fresh(): boolean;
  /** The subscription's connection (Redis only), for tests that cut it. */
  readonly subscriber: Redis | undefined;
  /** How many reads went to the shared cache because the copy was not fresh (for tests, metrics). */
  sharedReads(): number;
  /** The subscription connection's name in CLIENT LIST (empty without Redis). */
  readonly name: string;
  close(): Promise<void>;
}

export interface DenyListOptions {
  cache: Cache;
  logger: Logger;
  /** Key prefixes of the marks (each followed by `*` when the copy is refilled). */
  prefixes: readonly string[];
  /** Longest time a mark written elsewhere may go unseen by this instance (default 1 s). */
  boundMs?: number;
  /** Monotonic milliseconds; tests may move it. */
  now?: () => number;
}

/** Above this many marks the copy is not trusted (reads go to Redis): memory stays bounded. */
const MAX_LOCAL_MARKS = 200_000;

interface Mark {
  value: number | boolean;
  expiresAt: number;
}

type Message = { k: string; v: number | boolean; ttl: number } | { beat: string; at: number };

const larger = (a: number | boolean | undefined, b: number | boolean): number | boolean =>
  typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : b;

export function createDenyList(options: DenyListOptions): DenyList {
  const { cache } = options;
  const redis = cache.redis;
  if (!redis) {
    let reads = 0;
    return {
      sharedReads: () => reads,
      read: (keys) => {
        reads += 1;
        return Promise.all(keys.map((key) => cache.get(key)));
      },
      write: (key, value, ttlSeconds) => cache.set(key, value, ttlSeconds),
      fresh: () => false,
      subscriber: undefined,
      name: '',
      close: () => Promise.resolve(),
    };
  }
  return replicatedDenyList(options, redis);
}

function replicatedDenyList(options: DenyListOptions, redis: Redis): DenyList {
  const { logger } = options;
  const boundMs = options.boundMs ?? 1000;
  const now = options.now ?? (() => performance.now());
  const instance = randomUUID();
  const keyPrefix = redis.options.keyPrefix ?? '';
  // ioredis prefixes keys but not channels: the prefix keeps apart Lecterns sharing a Redis
  const channel = `${keyPrefix}identity:deny-list`;
  const marks = new Map<string, Mark>();

  let synced = false;
  let syncedAt = Number.NEGATIVE_INFINITY;
  /** Send time of the newest own heartbeat that came back since the copy was last refilled. */
  let confirmedAt = Number.NEGATIVE_INFINITY;
  /** Bumped whenever the subscription is lost, so a refill begun before cannot vouch for after. */
  let epoch = 0;
  let closed = false;

  const remember = (key: string, value: number | boolean, ttlMs: number) => {
    const known = marks.get(key);
    const at = now();
    const live = known && known.expiresAt > at ? known : undefined;
    marks.set(key, {
      value: larger(live?.value, value),
      expiresAt: Math.max(live?.expiresAt ?? 0, at + ttlMs),
    });
  };

  const lose = () => {
    epoch += 1;
    synced = false;
    confirmedAt = Number.NEGATIVE_INFINITY;
  };

  // named, so an operator (or a test) can find it in CLIENT LIST
  const name = `lectern-deny-list-${instance}`;
  const subscriber = redis.duplicate({ connectionName: name });
  subscriber.on('error', () => undefined);
  subscriber.on('close', lose);
  subscriber.on('message', (_channel: string, raw: string) => {
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if ('beat' in message) {
      if (message.beat === instance && synced) confirmedAt = Math.max(confirmedAt, message.at);
      return;
    }
    remember(message.k, message.v, message.ttl);
  });

  /** Subscribe, then copy every live mark from Redis; only then may heartbeats vouch for the copy. */
  async function refill(): Promise<void> {
    const mine = epoch;
    await subscriber.subscribe(channel);
    for (const prefix of options.prefixes) {
      let cursor = '0';
      do {
        // SCAN's pattern and answers are full key names; GET and PTTL add the prefix themselves
        const [next, found] = await redis.scan(cursor, 'MATCH', `${keyPrefix}${prefix}*`, 'COUNT', 1000);
        cursor = next;
        const keys = found.map((full) => full.slice(keyPrefix.length));
        if (keys.length === 0) continue;
        const pipeline = redis.pipeline();
        for (const key of keys) pipeline.get(key).pttl(key);
        const answers = (await pipeline.exec()) ?? [];
        keys.forEach((key, i) => {
          const raw = answers[2 * i]?.[1];
          const ttl = answers[2 * i + 1]?.[1];
          if (typeof raw === 'string' && typeof ttl === 'number' && ttl > 0) {
            remember(key, JSON.parse(raw) as number | boolean, ttl);
          }
        });
      } while (cursor !== '0');
    }
    if (mine === epoch && !closed) {
      synced = true;
      syncedAt = now();
    }
  }

  const startRefill = () => {
    refill().catch((err: unknown) => {
      // reads stay on Redis; the next 'ready' (after a reconnect) tries again
      logger.warn({ err, component: 'identity-deny-list' }, 'deny-list copy could not be filled');
    });
  };
  subscriber.on('ready', startRefill);

  const sweep = () => {
    const at = now();
    for (const [key, mark] of marks) if (mark.expiresAt <= at) marks.delete(key);
  };
  let beats = 0;
  const heartbeat = setInterval(
    () => {
      if (!synced) return;
      if (now() - Math.max(confirmedAt, syncedAt) > 4 * boundMs) {
        // subscribed but deaf (a half-open connection, an unsubscribe behind our back): reads
        // already went to Redis; start a new connection, which subscribes and refills again
        lose();
        subscriber.disconnect(true);
        return;
      }
      if (++beats % 40 === 0) sweep();
      const beat: Message = { beat: instance, at: now() };
      redis.publish(channel, JSON.stringify(beat)).catch(() => undefined);
    },
    Math.max(10, Math.floor(boundMs / 4)),
  );
  heartbeat.unref();

  /** The fallback: every mark from Redis in one round trip, as before the copy existed. */
  let sharedReads = 0;
  const readShared = async (keys: readonly string[]) => {
    sharedReads += 1;
    return (await redis.mget(...keys)).map((raw) =>
      raw === null ? undefined : (JSON.parse(raw) as unknown),
    );
  };

  const fresh = () => synced && now() - confirmedAt < boundMs && marks.size <= MAX_LOCAL_MARKS;

  return {
    read(keys) {
      if (!fresh()) return readShared(keys);
      const at = now();
      return keys.map((key) => {
        const mark = marks.get(key);
        return mark && mark.expiresAt > at ? mark.value : undefined;
      });
    },
    async write(key, value, ttlSeconds) {
      const ttl = Math.max(1, Math.ceil(ttlSeconds));
      const message: Message = { k: key, v: value, ttl: ttl * 1000 };
      // one transaction: a mark stored but never announced would be missed by fresh copies
      const results = await redis
        .multi()
        .set(key, JSON.stringify(value), 'EX', ttl)
        .publish(channel, JSON.stringify(message))
        .exec();
      const failed = results?.find(([err]) => err !== null)?.[0];
      if (!results || failed) throw failed ?? new Error('deny-list write was discarded');
      // this instance refuses at once, whatever the subscription does
      remember(key, value, ttl * 1000);
    },
    fresh,
    sharedReads: () => sharedReads,
    subscriber,
    name,
    async close() {
      closed = true;
      clearInterval(heartbeat);
      lose();
      marks.clear();
      await subscriber.quit().catch(() => {
        subscriber.disconnect();
      });
    },
  };
}
