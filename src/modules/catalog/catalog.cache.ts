import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Cache } from '../../platform/cache/cache.js';
import { lazyResponseCache } from '../../platform/http/response-cache.js';

/**
 * Public reads, cached two ways. The public course list and an anonymous course page are
 * answered by the platform's response cache: serialised bytes (a local tier in front of the
 * shared cache), a strong ETag and 304s, dropped by bumping a generation (one for all lists, one
 * per course page). Everything else (the data of a course page for signed-in readers, instructor
 * pages, tags, the category tree) is cache-aside in the shared cache: course data keyed by id and
 * deleted on change, the rest keyed by a generation that every change bumps, because a change
 * can move a course into or out of any number of lists.
 *
 * A cache failure never fails a request: reads fall through to the database and a failed
 * invalidation is bounded by the TTLs.
 */
export interface CatalogCache {
  /** Read through: `load` runs on a miss and its result is stored unless it is undefined. */
  course<T>(courseId: string, load: () => Promise<T | undefined>): Promise<T | undefined>;
  listing<T>(scope: string, params: unknown, load: () => Promise<T>): Promise<T>;
  /** After a committed change to this course (or to anything shown in lists). */
  invalidateCourse(...courseIds: string[]): Promise<void>;
  /** After a change that alters no single course's detail (a category, an instructor). */
  invalidateListings(): Promise<void>;
  /**
   * Answer a public read from the response cache, building (and keeping) it on a miss. Undefined
   * when it answered at once from this process's copy: a route returns it as it is.
   */
  respond(
    request: FastifyRequest,
    reply: FastifyReply,
    answer: PublicAnswer,
  ): undefined | Promise<FastifyReply>;
  close(): Promise<void>;
}

/** A public read the response cache may answer: which one, and how to build it on a miss. */
export interface PublicAnswer {
  of: { list: () => Record<string, unknown>; afterCursor: boolean } | { course: string };
  /** Throws for what is not there (a 404 is never cached). */
  build: () => Promise<unknown>;
}

const LISTS_SCOPE = 'catalog:lists';
const courseScope = (id: string) => `catalog:course:${id}`;

/** The same query in another parameter order is the same answer. */
function digestOf(params: Record<string, unknown>): string {
  const sorted = Object.keys(params)
    .sort()
    .map((k) => [k, params[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('base64url').slice(0, 22);
}

/** Distinct list URLs whose key is remembered (a few hundred are the pages anyone hits often). */
const LIST_KEYS = 1000;

const GENERATION = 'catalog:gen';
const GENERATION_TTL = 30 * 24 * 3600;

export function createCatalogCache(
  cache: Cache,
  logger: Logger,
  ttl: { detailSeconds: number; listSeconds: number },
): CatalogCache {
  const courseKey = (id: string) => `catalog:course:${id}`;
  // A list's key is a pure function of its URL (the same query string parses and defaults to the
  // same params), so a warm list does not sort and sha256 its params on every request: that cost
  // about 8 µs of CPU and a native Hash object's garbage per request, a sixth of the warm list's.
  // A page after a cursor is rarely asked twice: its key is not remembered, so a walk through
  // made-up cursors does not push the first pages' keys out.
  const listKeys = new LRUCache<string, string>({ max: LIST_KEYS });
  const listKey = (url: string, params: () => Record<string, unknown>, afterCursor: boolean): string => {
    if (afterCursor) return digestOf(params());
    let key = listKeys.get(url);
    if (key === undefined) {
      key = digestOf(params());
      listKeys.set(url, key);
    }
    return key;
  };
  const warn = (err: unknown, what: string) => {
    logger.warn({ err, component: 'catalog-cache' }, what);
  };

  const safeGet = async <T>(key: string): Promise<T | undefined> => {
    try {
      return await cache.get<T>(key);
    } catch (err) {
      warn(err, 'cache read failed; reading the database');
      return undefined;
    }
  };
  const safeSet = async (key: string, value: unknown, seconds: number) => {
    try {
      await cache.set(key, value, seconds);
    } catch (err) {
      warn(err, 'cache write failed');
    }
  };

  const responses = lazyResponseCache(cache, (err) => {
    warn(err, 'response cache failed; answering from the database');
  });
  const dropAnswers = async (scopes: string[]) => {
    try {
      const rc = await responses.get();
      for (const scope of scopes) await rc.invalidate(scope);
    } catch (err) {
      warn(err, 'response cache invalidation failed; answers may be stale until their TTL');
    }
  };

  const bump = async () => {
    try {
      await cache.incr(GENERATION, GENERATION_TTL);
    } catch (err) {
      warn(err, 'cache invalidation failed; lists may be stale until their TTL');
    }
    await dropAnswers([LISTS_SCOPE]);
  };

  return {
    async course(courseId, load) {
      const key = courseKey(courseId);
      const hit = await safeGet<Awaited<ReturnType<typeof load>>>(key);
      if (hit !== undefined) return hit;
      const value = await load();
      if (value !== undefined) await safeSet(key, value, ttl.detailSeconds);
      return value;
    },

    async listing(scope, params, load) {
      const generation = (await safeGet<number>(GENERATION)) ?? 0;
      const digest = createHash('sha256').update(JSON.stringify(params)).digest('base64url').slice(0, 22);
      const key = `catalog:${scope}:${generation}:${digest}`;
      const hit = await safeGet<Awaited<ReturnType<typeof load>>>(key);
      if (hit !== undefined) return hit;
      const value = await load();
      // "not found" is not cached: the thing may appear before any change bumps the generation
      if (value !== undefined) await safeSet(key, value, ttl.listSeconds);
      return value;
    },

    async invalidateCourse(...courseIds) {
      try {
        if (courseIds.length > 0) await cache.del(...courseIds.map(courseKey));
      } catch (err) {
        warn(err, 'cache invalidation failed; details may be stale until their TTL');
      }
      await dropAnswers(courseIds.map(courseScope));
      await bump();
    },

    invalidateListings: bump,

    respond(request, reply, answer) {
      const spec =
        'list' in answer.of
          ? {
              scope: LISTS_SCOPE,
              key: listKey(request.url, answer.of.list, answer.of.afterCursor),
              ttlSeconds: ttl.listSeconds,
              keepFromSecondAsk: answer.of.afterCursor,
            }
          : { scope: courseScope(answer.of.course), key: 'public', ttlSeconds: ttl.detailSeconds };
      return responses.respond(request, reply, { ...spec, build: answer.build });
    },

    close: () => responses.close(),
  };
}
