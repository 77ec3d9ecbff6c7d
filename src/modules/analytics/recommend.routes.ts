import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { CourseParams, LimitQuery, RecommendationList } from './recommend.schemas.js';
import type { RecommendService } from './recommend.service.js';
import { requireViewer, tags } from './routes.common.js';

export function recommendRoutes(recommend: RecommendService) {
  return (app: App, { auth }: HttpKit) => {
    app.get(
      '/analytics/recommendations/for-you',
      {
        preHandler: [auth.require()],
        schema: {
          tags,
          summary:
            'Courses for the signed-in learner, each with the reason it is there (owned courses never)',
          security: bearer,
          querystring: LimitQuery,
          response: { 200: RecommendationList, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => ({
        data: await recommend.forYou(requireViewer(request).userId, request.query.limit),
      }),
    );

    app.get(
      '/analytics/courses/:id/also-bought',
      {
        schema: {
          tags,
          summary: 'Learners who bought this course also bought… (Jaccard similarity of buyers)',
          params: CourseParams,
          querystring: LimitQuery,
          response: { 200: RecommendationList, ...errorResponses(400, 404) },
        },
      },
      async (request) => ({ data: await recommend.alsoBought(request.params.id, request.query.limit) }),
    );
  };
}
