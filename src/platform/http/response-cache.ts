import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Cache } from '../cache/cache.js';

/**
 * Warm reads answered with bytes serialised once. Two tiers: a small LRU in this process (bytes
 * ready to write) in front of the shared cache (Redis, or memory on the embedded default). Every
 * entry's key carries its scope's generation; `invalidate(scope)` bumps the generation in the
 * shared cache and tells the other instances over Redis pub/sub, so they stop using the old
 * entries at once. An instance that missed the message notices within `generationCheckMs`, when it
 * re-reads the generation from the shared cache: that is the staleness bound across instances.
 *
 * Answers carry a strong ETag (a hash of the bytes); a request whose If-None-Match names it gets
 * a 304. Only the body comes from the cache: hooks still set every other header.
 */
export interface ResponseCache {
  /**
   * Answer from the cache, or `build` the value, serialise it with the route's response schema
   * (exactly as a normal answer would be), keep it and answer with it.
   */
  send(request: FastifyRequest, reply: FastifyReply, entry: CachedAnswer): Promise<FastifyReply>;
  /**
   * Answer at once from this process's copy of the scope's current answer, when it holds one (the
   * warm read, with nothing to wait for); false when it does not, and `send` must answer.
   */
  sendKept(request: FastifyRequest, reply: FastifyReply, scope: string, key: string): boolean;
  /** Drop every answer of the scope, on every instance. */
  invalidate(scope: string): Promise<void>;
  close(): Promise<void>;
}

export interface CachedAnswer {
  /** What an invalidation drops together (e.g. `catalog`). */
  scope: string;
  /** The answer's identity within the scope: path and the query that shapes it. */
  key: string;
  /** Lifetime in the shared cache; the local tier keeps entries no longer. */
  ttlSeconds: number;
  build: () => Promise<unknown>;
  /**
   * `build` answers the JSON text itself, already in the route's response shape (a page its
   * database wrote): it is kept as it is, not passed through the route's serializer.
   */
  serialized?: boolean;
  /**
   * An answer few ask for twice, such as a page after a cursor: stored only from its second ask on
   * this instance within `ttlSeconds`. The first ask reads the shared cache (another instance may
   * have stored it), then builds and answers without keeping it, so one-off pages (a crawler's walk,
   * made-up cursors) cost no shared-cache write and push no popular answer out of either tier.
   */
  keepFromSecondAsk?: boolean;
}

export interface ResponseCacheOptions {
  cache: Cache;
  /** Entries kept in this process (default 500). */
  localEntries?: number;
  /** Bytes kept in this process (default 32 MB). */
  localBytes?: number;
  /** Answers marked `keepFromSecondAsk` remembered as asked once (default 10,000). */
  askedOnceEntries?: number;
  /** How long a generation read from the shared cache is trusted without a message (default 1 s). */
  generationCheckMs?: number;
  now?: () => number;
}

interface Stored {
  body: string;
  etag: string;
  contentType: string;
}

interface Local {
  /** Bytes ready to write; the text as built for an answer that is not kept. */
  body: Buffer | string;
  etag: string;
  contentType: string;
}

// longer than any entry lives, so a generation counter that expired and starts over can never
// meet an entry stored under its old value
const GENERATION_TTL_SECONDS = 30 * 24 * 3600;

const generationKey = (scope: string) => `rc:gen:${scope}`;

function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** RFC 9110 §13.1.2: If-None-Match compares weakly; `*` matches any current answer. */
function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

export async function createResponseCache(options: ResponseCacheOptions): Promise<ResponseCache> {
  const { cache } = options;
  const now = options.now ?? Date.now;
  const checkMs = options.generationCheckMs ?? 1000;
  const local = new LRUCache<string, Local>({
    max: options.localEntries ?? 500,
    maxSize: options.localBytes ?? 32 * 1024 * 1024,
    sizeCalculation: (entry) => entry.body.length + 200,
  });
  // keys only: an answer's first ask is remembered, its bytes are not
  const askedOnce = new LRUCache<string, true>({ max: options.askedOnceEntries ?? 10_000 });
  const generations = new Map<string, { value: number; readAt: number }>();
  const filling = new Map<string, Promise<Local>>();

  const learn = (scope: string, value: number, at: number) => {
    const known = generations.get(scope);
    // a message and a read may arrive in either order: generations only go up
    generations.set(scope, { value: Math.max(value, known?.value ?? 0), readAt: at });
  };

  let subscriber: Redis | undefined;
  // ioredis prefixes keys but not channels: the prefix keeps apart Lecterns that share a Redis
  const channel = `${cache.redis?.options.keyPrefix ?? ''}response-cache:generation`;
  if (cache.redis) {
    subscriber = cache.redis.duplicate();
    subscriber.on('error', () => undefined);
    subscriber.on('message', (_channel: string, message: string) => {
      const [scope, value] = message.split(' ');
      if (scope && value) learn(scope, Number(value), now());
    });
    await subscriber.subscribe(channel);
  }

  // one read of a scope's generation at a time: when the trusted value runs out under load, the
  // requests waiting for it share one Redis GET instead of each making their own
  const reading = new Map<string, Promise<number>>();

  function generation(scope: string): number | Promise<number> {
    const at = now();
    if (cache.peek) {
      // a cache in this process (the embedded default): its value is current and read without
      // waiting, so it is read every time, and an instance sharing it (in tests) sees a drop at
      // once. With Redis the generation is trusted for `generationCheckMs` between pub/sub
      // messages (the bound across instances).
      const value = cache.peek(generationKey(scope));
      learn(scope, typeof value === 'number' ? value : 0, at);
      return generations.get(scope)?.value ?? 0;
    }
    const known = generations.get(scope);
    if (known && at - known.readAt < checkMs) return known.value;
    let read = reading.get(scope);
    if (!read) {
      read = (async () => {
        learn(scope, (await cache.get<number>(generationKey(scope))) ?? 0, at);
        return generations.get(scope)?.value ?? 0;
      })().finally(() => reading.delete(scope));
      reading.set(scope, read);
    }
    return read;
  }

  function answer(request: FastifyRequest, reply: FastifyReply, entry: Local): FastifyReply {
    reply.header('etag', entry.etag);
    if (notModified(request.headers['if-none-match'], entry.etag)) return reply.code(304).send();
    return reply.type(entry.contentType).send(entry.body);
  }

  async function build(reply: FastifyReply, spec: CachedAnswer): Promise<Stored> {
    const built = await spec.build();
    const serialised = spec.serialized === true && typeof built === 'string' ? built : reply.serialize(built);
    const body =
      typeof serialised === 'string' ? serialised : Buffer.from(serialised as ArrayBuffer).toString('utf8');
    return { body, etag: etagOf(body), contentType: 'application/json; charset=utf-8' };
  }

  /** The answer from the shared cache, or built: kept in both tiers unless this is its first ask. */
  async function fill(key: string, reply: FastifyReply, spec: CachedAnswer): Promise<Local> {
    const shared = await cache.get<Stored>(key);
    const ttl = spec.ttlSeconds * 1000;
    if (!shared && spec.keepFromSecondAsk === true && !askedOnce.has(key)) {
      askedOnce.set(key, true, { ttl });
      return build(reply, spec);
    }
    askedOnce.delete(key);
    let stored = shared;
    if (!stored) {
      stored = await build(reply, spec);
      await cache.set(key, stored, spec.ttlSeconds);
    }
    const made = { body: Buffer.from(stored.body), etag: stored.etag, contentType: stored.contentType };
    local.set(key, made, { ttl });
    return made;
  }

  const entryKey = (scope: string, gen: number, key: string) => `rc:${scope}:${gen}:${key}`;

  return {
    sendKept(request, reply, scope, key) {
      // a generation still being read is shared with the `send` that follows
      const gen = generation(scope);
      const entry = typeof gen === 'number' ? local.get(entryKey(scope, gen, key)) : undefined;
      if (!entry) return false;
      answer(request, reply, entry);
      return true;
    },
    async send(request, reply, spec) {
      // read before building: an invalidation during the build leaves what it built under the
      // old generation, where no reader of the new one looks
      const gen = await generation(spec.scope);
      const key = entryKey(spec.scope, gen, spec.key);
      let entry = local.get(key);
      if (!entry) {
        // concurrent misses of one answer (a popular page just after an invalidation) share one
        // fill instead of each reading the shared cache and building the page
        let filled = filling.get(key);
        if (!filled) {
          filled = fill(key, reply, spec).finally(() => filling.delete(key));
          filling.set(key, filled);
        }
        entry = await filled;
      }
      return answer(request, reply, entry);
    },
    async invalidate(scope) {
      const value = await cache.incr(generationKey(scope), GENERATION_TTL_SECONDS);
      learn(scope, value, now());
      await cache.redis?.publish(channel, `${scope} ${value}`);
    },
    async close() {
      local.clear();
      askedOnce.clear();
      if (!subscriber) return;
      const connection = subscriber;
      await connection.quit().catch(() => {
        connection.disconnect();
      });
    },
  };
}

/** A module's response cache, made on its first use. */
export interface LazyResponseCache {
  /** The cache, made now if it is not yet (a failed making is tried again next time). */
  get(): Promise<ResponseCache>;
  /**
   * Answer a public read: at once from this process's copy when it holds one (undefined: the
   * route returns it as it is), else through `send`. When the cache itself fails (not the
   * build), the answer is built and sent without it, and `onCacheFailure` hears why.
   */
  respond(
    request: FastifyRequest,
    reply: FastifyReply,
    spec: CachedAnswer,
  ): undefined | Promise<FastifyReply>;
  close(): Promise<void>;
}

/**
 * A response cache over `cache`, made on first use (the first public read or drop), so a process
 * that never serves or changes what it holds opens no Redis subscription.
 */
export function lazyResponseCache(cache: Cache, onCacheFailure: (err: unknown) => void): LazyResponseCache {
  let making: Promise<ResponseCache> | undefined;
  let made: ResponseCache | undefined;
  const get = (): Promise<ResponseCache> => {
    making ??= createResponseCache({ cache }).then(
      (rc) => (made = rc),
      (err: unknown) => {
        making = undefined;
        throw err;
      },
    );
    return making;
  };
  const sendOrBuild = async (
    request: FastifyRequest,
    reply: FastifyReply,
    spec: CachedAnswer,
  ): Promise<FastifyReply> => {
    const failed = { build: false };
    const build = async () => {
      try {
        return await spec.build();
      } catch (err) {
        failed.build = true;
        throw err;
      }
    };
    try {
      return await (await get()).send(request, reply, { ...spec, build });
    } catch (err) {
      // the answer's own failure (a 404, the database) is the request's; a cache failure is not
      if (failed.build || reply.sent) throw err;
      onCacheFailure(err);
      const value = await spec.build();
      return spec.serialized === true && typeof value === 'string'
        ? reply.type('application/json; charset=utf-8').send(value)
        : reply.send(value);
    }
  };
  return {
    get,
    respond(request, reply, spec) {
      if (made?.sendKept(request, reply, spec.scope, spec.key)) return undefined;
      return sendOrBuild(request, reply, spec);
    },
    async close() {
      const current = making;
      making = undefined;
      made = undefined;
      if (current) await (await current.catch(() => undefined))?.close();
    },
  };
}
