import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { rolesFor } from './permissions.js';
import { requireViewer, tags } from './routes.common.js';
import { ScoreAnswer, TopAnswer, TopQuery, UserParams } from './scores.schemas.js';
import type { ScoresService } from './scores.service.js';

export function scoresRoutes(scores: ScoresService) {
  return (app: App, { auth }: HttpKit) => {
    app.get(
      '/analytics/users/:id/score',
      {
        preHandler: [auth.require()],
        schema: {
          tags,
          summary:
            'A user’s activity score S = A·B·C with its three components (the user themself, or an admin)',
          security: bearer,
          params: UserParams,
          response: { 200: ScoreAnswer, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => ({
        userId: request.params.id,
        score: await scores.of(requireViewer(request), request.params.id),
      }),
    );

    app.get(
      '/admin/analytics/activity/top',
      {
        preHandler: [auth.require({ roles: rolesFor('analytics:read-platform') })],
        schema: {
          tags,
          summary: 'The most active users by activity score (ties share a rank)',
          security: bearer,
          querystring: TopQuery,
          response: { 200: TopAnswer, ...errorResponses(400, 401, 403) },
        },
      },
      async (request) => ({ data: await scores.top(request.query.limit) }),
    );
  };
}
