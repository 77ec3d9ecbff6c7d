import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Cache } from '../../platform/cache/cache.js';

/**
 * Entitlement answers kept in this process, in front of the shared cache, so the content check
 * of a warm learner makes no round trip at all. Every grant and revocation drops the pair here
 * and, over Redis pub/sub, on every other instance:
 *
 * - the instance that changed the grant drops its copy before `invalidate` returns (the refund's
 *   own instance refuses on the very next request);
 * - another instance drops it when the message arrives. Its copy is trusted only while its own
 *   heartbeat, published every quarter of `boundMs`, came back through the subscription less than
 *   `boundMs` ago: Redis delivers one channel's messages in order, so a heartbeat coming back
 *   proves every drop published before it arrived. Hence the bound: a revocation published at t is
 *   seen by every request that starts after t + `boundMs` on any instance. When the subscription
 *   drops or stalls, reads go to the shared cache as before, and the copy is emptied;
 * - a load that raced with a drop (read the database before the commit, stores after the drop)
 *   is not kept: every drop moves a generation the load compares before storing.
 *
 * Without Redis (the embedded default) every change happens in this process, so the copy is
 * always current.
 */
export interface EntitlementCopy {
  /** The kept answer, or undefined (not kept, or the copy is not trusted now). */
  get(userId: string, courseId: string): boolean | undefined;
  /** A token to hand to `set` after loading: a drop in between makes `set` keep nothing. */
  generation(): number;
  set(userId: string, courseId: string, entitled: boolean, generation: number): void;
  /** Drop the pairs here at once and, with Redis, on every instance. */
  drop(pairs: readonly { userId: string; courseId: string }[]): Promise<void>;
  close(): Promise<void>;
}

interface Message {
  /** Heartbeat of the instance that sent it. */
  beat?: string;
  sentAt?: number;
  /** Pairs to drop, `user|course`. */
  drop?: string[];
}

const pairKey = (userId: string, courseId: string) => `${userId}|${courseId}`;

export function createEntitlementCopy(options: {
  cache: Cache;
  logger: Logger;
  /** How long an answer is kept here at most (the shared cache's time). */
  ttlSeconds: number;
  /** Longest time a drop published elsewhere may go unseen here (default 1 s). */
  boundMs?: number;
  channel?: string;
  max?: number;
}): EntitlementCopy {
  const boundMs = options.boundMs ?? 1000;
  // under the deployment's Redis key prefix, as the cache's keys are: two deployments (or two test
  // apps) on one Redis must not drop each other's answers
  const channel =
    options.channel ?? `${options.cache.redis?.options.keyPrefix ?? 'lectern:'}learning:entitlements`;
  const copy = new LRUCache<string, boolean>({
    max: options.max ?? 100_000,
    ttl: options.ttlSeconds * 1000,
  });
  let generation = 0;
  const dropHere = (keys: readonly string[]) => {
    generation++;
    for (const key of keys) copy.delete(key);
  };

  const shared = options.cache.redis;
  if (!shared) {
    return {
      get: (userId, courseId) => copy.get(pairKey(userId, courseId)),
      generation: () => generation,
      set(userId, courseId, entitled, seen) {
        if (seen === generation) copy.set(pairKey(userId, courseId), entitled);
      },
      drop(pairs) {
        dropHere(pairs.map((p) => pairKey(p.userId, p.courseId)));
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
  }

  // a subscribed connection runs no other command, and the cache's key prefix must not split the
  // channel between instances: two connections of our own
  const connectionOptions = { ...shared.options, keyPrefix: '', lazyConnect: false };
  const publisher = new Redis(connectionOptions);
  const subscriber = new Redis(connectionOptions);
  const me = randomUUID();
  /** performance.now() when this instance's last heartbeat came back, and when it was sent. */
  let beatBackAt = Number.NEGATIVE_INFINITY;
  let beatSentAt = Number.NEGATIVE_INFINITY;
  const fresh = () => {
    const now = performance.now();
    return now - beatBackAt < boundMs && now - beatSentAt < boundMs;
  };
  const distrust = () => {
    beatBackAt = Number.NEGATIVE_INFINITY;
    dropHere([...copy.keys()]);
  };
  for (const connection of [publisher, subscriber]) {
    connection.on('error', (err: unknown) => {
      options.logger.warn({ err }, 'learning entitlement copy: Redis error');
    });
  }
  // whatever was published while the subscription was down is lost: start empty
  subscriber.on('close', distrust);
  subscriber.on('ready', distrust);
  subscriber.subscribe(channel).catch((err: unknown) => {
    options.logger.error({ err }, 'learning entitlement copy: could not subscribe');
  });
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    let message: Message;
    try {
      message = JSON.parse(raw) as Message;
    } catch {
      return;
    }
    if (message.drop) dropHere(message.drop);
    if (message.beat === me && typeof message.sentAt === 'number') {
      // the copy is as fresh as the heartbeat's sending: everything published before it is applied
      beatSentAt = Math.max(beatSentAt, message.sentAt);
      beatBackAt = performance.now();
    }
  });
  const heartbeat = setInterval(() => {
    publisher
      .publish(channel, JSON.stringify({ beat: me, sentAt: performance.now() } satisfies Message))
      .catch(() => undefined);
  }, boundMs / 4);
  heartbeat.unref();

  return {
    get: (userId, courseId) => (fresh() ? copy.get(pairKey(userId, courseId)) : undefined),
    generation: () => generation,
    set(userId, courseId, entitled, seen) {
      if (seen === generation && fresh()) copy.set(pairKey(userId, courseId), entitled);
    },
    async drop(pairs) {
      const keys = pairs.map((p) => pairKey(p.userId, p.courseId));
      dropHere(keys);
      if (keys.length > 0) await publisher.publish(channel, JSON.stringify({ drop: keys } satisfies Message));
    },
    async close() {
      clearInterval(heartbeat);
      await Promise.all(
        [publisher, subscriber].map((c) =>
          c.quit().catch(() => {
            c.disconnect();
          }),
        ),
      );
    },
  };
}
