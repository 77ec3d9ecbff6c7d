import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Cache } from '../../platform/cache/cache.js';

/**
 * Cache-aside for public reads. Course details are keyed by id and deleted on change. Lists,
 * instructor pages, tags and the category tree are keyed by a generation number that every
 * change bumps, because a change can move a course into or out of any number of cached lists.
 * The cache is the shared platform cache (Redis whenever more than one instance runs), so a
 * delete or bump is seen by every instance at once; see CONTEXT.md for why there is no
 * per-instance layer.
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
}

const GENERATION = 'catalog:gen';
const GENERATION_TTL = 30 * 24 * 3600;

export function createCatalogCache(
  cache: Cache,
  logger: Logger,
  ttl: { detailSeconds: number; listSeconds: number },
): CatalogCache {
  const courseKey = (id: string) => `catalog:course:${id}`;
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
  const bump = async () => {
    try {
      await cache.incr(GENERATION, GENERATION_TTL);
    } catch (err) {
      warn(err, 'cache invalidation failed; lists may be stale until their TTL');
    }
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
      await bump();
    },

    invalidateListings: bump,
  };
}
