import type { FastifyRequest } from 'fastify';
import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { BatchReceipt, ClientIdHeaders, EventBatch } from './ingest.schemas.js';
import type { IngestService } from './ingest.service.js';
import { optionalViewer, tags } from './routes.common.js';

const CLIENT_ID = /^[A-Za-z0-9._:-]{8,64}$/;

/** The rate-limit key: the client's own id when it sends a sane one, else its address. */
const clientKey = (request: FastifyRequest): string => {
  const id = request.headers['x-client-id'];
  return typeof id === 'string' && CLIENT_ID.test(id)
    ? `analytics-ingest:c:${id}`
    : `analytics-ingest:ip:${request.ip}`;
};

export function ingestRoutes(deps: { ingest: IngestService; batchesPerMinute: number }) {
  const { ingest, batchesPerMinute } = deps;
  return (app: App, { auth }: HttpKit) => {
    app.post(
      '/analytics/events',
      {
        preHandler: [auth.optional()],
        config: { rateLimit: { max: batchesPerMinute, timeWindow: 60_000, keyGenerator: clientKey } },
        schema: {
          tags,
          summary:
            'Send up to 500 behaviour events; 202 once they are stored (a retried batch is stored once)',
          description:
            'Signed-in clients send an access token; anonymous ones an X-Client-Id header. Each event has the ' +
            'client’s own id (unique per client), so a batch retried after a network failure stores each event ' +
            'once. One bad event refuses the whole batch (the problem names it) and stores nothing.',
          security: bearer,
          headers: ClientIdHeaders,
          body: EventBatch,
          response: { 202: BatchReceipt, ...errorResponses(400, 401, 403, 413, 429) },
        },
      },
      async (request, reply) => {
        const viewer = optionalViewer(request);
        const receipt = await ingest.ingest(
          { userId: viewer?.userId, clientId: request.headers['x-client-id'] },
          request.body.events,
        );
        return reply.status(202).send(receipt);
      },
    );
  };
}
