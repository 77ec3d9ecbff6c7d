import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { RebuildInput, RebuildQueued } from './aggregates.schemas.js';
import { rolesFor } from './permissions.js';
import { tags } from './routes.common.js';

export function aggregatesRoutes(deps: {
  queueRebuild: (days: string[] | undefined) => Promise<string | null>;
}) {
  return (app: App, { auth }: HttpKit) => {
    app.post(
      '/admin/analytics/rebuild',
      {
        preHandler: [auth.require({ roles: rolesFor('analytics:read-platform') })],
        schema: {
          tags,
          summary: 'Rebuild the daily aggregates of some days (or all) from raw events, in the worker',
          security: bearer,
          body: RebuildInput,
          response: { 202: RebuildQueued, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const jobId = await deps.queueRebuild(request.body.days);
        return reply.status(202).send({ jobId });
      },
    );
  };
}
