import type { App } from '../../platform/http/server.js';
import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { HttpKit } from '../../platform/module.js';
import { requireViewer } from './access.service.js';
import { SUBJECTS, tags, VoteInput, Votes } from './community.schemas.js';
import type { VotesService } from './votes.service.js';

/** PUT and DELETE `/reviews/:id/vote` and `/comments/:id/vote`: one set of routes per kind of subject. */
export function votesRoutes(votes: VotesService) {
  return (app: App, { auth }: HttpKit) => {
    const user = auth.require();
    for (const subject of SUBJECTS) {
      const path = `/${subject.plural}/:id/vote`;
      app.put(
        path,
        {
          preHandler: [user],
          schema: {
            tags,
            summary: `Vote a ${subject.type} helpful or not (idempotent; one vote per user)`,
            security: bearer,
            params: subject.params,
            body: VoteInput,
            response: { 200: Votes, ...errorResponses(400, 401, 403, 404) },
          },
        },
        (request) =>
          votes.vote(subject.type, request.params.id, requireViewer(request), request.body.helpful),
      );
      app.delete(
        path,
        {
          preHandler: [user],
          schema: {
            tags,
            summary: `Take back your vote on a ${subject.type} (idempotent)`,
            security: bearer,
            params: subject.params,
            response: { 200: Votes, ...errorResponses(400, 401, 403, 404) },
          },
        },
        (request) => votes.unvote(subject.type, request.params.id, requireViewer(request)),
      );
    }
  };
}
