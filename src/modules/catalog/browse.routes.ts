import { Type } from 'typebox';
import { pageOf } from '../../platform/http/pagination.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { BrowseService } from './browse.service.js';
import type { CatalogCache } from './catalog.cache.js';
import { CourseDetail, CourseListQuery, CourseParams, CourseSummary, Tag } from './courses.schemas.js';
import { actorOf, Problem } from './routes.common.js';

/**
 * Public reads: the course list and search, the course page, tags. The list and an anonymous
 * course page come from the response cache (bytes, ETag, 304 on If-None-Match).
 */
export function browseRoutes(browse: BrowseService, responses: Pick<CatalogCache, 'respond'>) {
  return (app: App, { auth }: HttpKit) => {
    app.get(
      '/courses',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Browse and search published courses',
          description:
            'Filters combine with AND. `category` includes its sub-categories. With `q`, results are ranked by ' +
            'relevance (unless `sort` is given) and carry `highlight`. Prices are minor units.',
          querystring: CourseListQuery,
          response: { 200: pageOf(CourseSummary), 400: Problem },
        },
      },
      // not async: a warm answer is sent before the handler returns (undefined), with no promise
      (request, reply) => {
        const answer = browse.listAnswer(request.query);
        return answer ? responses.respond(request, reply, answer) : browse.list(request.query);
      },
    );

    app.get(
      '/courses/:courseId',
      {
        preHandler: [auth.optional()],
        schema: {
          tags: ['catalog'],
          summary: 'A course with its outline',
          description:
            'Paid lessons show metadata only. The instructor and admins see drafts and every detail.',
          params: CourseParams,
          response: { 200: CourseDetail, 401: Problem, 404: Problem },
        },
      },
      (request, reply) => {
        const actor = actorOf(request);
        const { courseId } = request.params;
        // signed-in readers may see more (their drafts, `favourited`): not one shared answer
        if (actor) return browse.detail(actor, courseId);
        return responses.respond(request, reply, browse.publicDetailAnswer(courseId));
      },
    );

    app.get(
      '/tags',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Tags of published courses, most used first',
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
          }),
          response: { 200: Type.Object({ data: Type.Array(Tag) }) },
        },
      },
      async (request) => ({ data: await browse.tags(request.query.limit ?? 50) }),
    );
  };
}
