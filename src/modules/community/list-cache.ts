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
  const responses = lazyResponseCache(cache);
  const scope = (courseId: string) => `community:reviews:${courseId}`;
  const sendLater = async (
    request: FastifyRequest,
    reply: FastifyReply,
    courseId: string,
    build: () => Promise<string>,
    afterCursor: boolean,
  ): Promise<FastifyReply> => {
    if (ttlSeconds === 0) return sendJson(reply, await build());
    const failed = { build: false };
    const guarded = async () => {
      try {
        return await build();
      } catch (err) {
        failed.build = true;
        throw err;
      }
    };
    try {
      return await (await responses.get()).send(request, reply, {
        scope: scope(courseId),
        key: request.url,
        ttlSeconds,
        build: guarded,
        serialized: true,
        keepFromSecondAsk: afterCursor,
      });
    } catch (err) {
      if (failed.build || reply.sent) throw err;
      logger.warn({ err }, 'community: response cache failed; answering from the database');
      return sendJson(reply, await build());
    }
  };
  return {
    send(request, reply, courseId, build, afterCursor) {
      if (ttlSeconds > 0 && responses.made()?.sendKept(request, reply, scope(courseId), request.url))
        return undefined;
      return sendLater(request, reply, courseId, build, afterCursor);
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
