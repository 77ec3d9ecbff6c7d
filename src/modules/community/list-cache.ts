import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Cache } from '../../platform/cache/cache.js';
import { lazyResponseCache } from '../../platform/http/response-cache.js';

/** Answer with JSON text that is already in the route's response shape (no serializer). */
export const sendJson = (reply: FastifyReply, json: string): FastifyReply =>
  reply.type('application/json; charset=utf-8').send(json);

export interface ListCache {
  /** Answer an anonymous review-list request (its page as JSON text) from the cache, or build, keep and send it. */
  send(
    request: FastifyRequest,
    reply: FastifyReply,
    courseId: string,
    build: () => Promise<string>,
    /** A page after a cursor, rarely asked twice: kept from its second ask (see ResponseCache). */
    afterCursor: boolean,
  ): undefined | Promise<FastifyReply>;
  /** Drop every cached page of the course's reviews (after the commit of a change). */
  drop(courseId: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Anonymous review pages through the platform's response cache, one scope per course: any change
 * to a course's reviews (new, edited, deleted, voted, moderated) drops that course's pages.
 * `ttlSeconds` 0 turns the cache off.
 */
export function createListCache(deps: { cache: Cache; ttlSeconds: number; logger: Logger }): ListCache {
  const { cache, ttlSeconds, logger } = deps;
  const responses = lazyResponseCache(cache, (err) => {
    logger.warn({ err }, 'community: response cache failed; answering from the database');
  });
  const scope = (courseId: string) => `community:reviews:${courseId}`;
  return {
    send(request, reply, courseId, build, afterCursor) {
      if (ttlSeconds === 0) return build().then((json) => sendJson(reply, json));
      return responses.respond(request, reply, {
        scope: scope(courseId),
        key: request.url,
        ttlSeconds,
        build,
        serialized: true,
        keepFromSecondAsk: afterCursor,
      });
    },
    async drop(courseId) {
      if (ttlSeconds === 0) return;
      try {
        await (await responses.get()).invalidate(scope(courseId));
      } catch (err) {
        logger.warn(
          { err },
          'community: cache invalidation failed; review pages may be stale until their TTL',
        );
      }
    },
    close: () => responses.close(),
  };
}
