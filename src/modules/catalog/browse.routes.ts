import { Type } from 'typebox';
import { pageOf } from '../../platform/http/pagination.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { BrowseService } from './browse.service.js';
import { CourseDetail, CourseListQuery, CourseParams, CourseSummary, Tag } from './courses.schemas.js';
import { actorOf, Problem } from './routes.common.js';

/** Public reads: the course list and search, the course page, tags. */
export function browseRoutes(browse: BrowseService) {
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
      (request) => browse.list(request.query),
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
      (request) => browse.detail(actorOf(request), request.params.courseId),
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
