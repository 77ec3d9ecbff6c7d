import { Type } from 'typebox';
import { PageQuery, pageOf } from '../http/pagination.js';
import { bearerSecurity } from '../http/problem.js';
import { errorResponses } from '../http/schemas.js';
import type { App } from '../http/server.js';
import type { HttpKit } from '../module.js';
import type { DeadLetterAdmin } from './dead-letters.admin.js';

const DeadLetter = Type.Object({
  id: Type.String(),
  consumer: Type.String(),
  eventId: Type.String(),
  type: Type.String(),
  reason: Type.String(),
  recordedAt: Type.String({ format: 'date-time' }),
  envelope: Type.Unknown({ description: 'The event as it arrived' }),
});

const Params = Type.Object({
  id: Type.String({ pattern: '^[1-9][0-9]{0,17}$', description: 'Dead letter id' }),
});

const ListQuery = Type.Object({
  ...PageQuery.properties,
  consumer: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  type: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});

const tags = ['operations'];
const ADMIN = { roles: ['admin'] };

/** Operators' view of events consumers refused: `/api/v1/admin/dead-letters`. */
export function deadLetterRoutes(admin: DeadLetterAdmin) {
  return (app: App, { auth }: HttpKit) => {
    app.get(
      '/admin/dead-letters',
      {
        preHandler: [auth.require(ADMIN)],
        schema: {
          tags,
          summary: 'Events a consumer refused, newest first (admin)',
          security: bearerSecurity,
          querystring: ListQuery,
          response: { 200: pageOf(DeadLetter), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => {
        const { limit = 20, cursor, consumer, type } = request.query;
        return admin.list({ consumer, type }, { limit, cursor });
      },
    );

    app.get(
      '/admin/dead-letters/:id',
      {
        preHandler: [auth.require(ADMIN)],
        schema: {
          tags,
          summary: 'One dead letter with its event (admin)',
          security: bearerSecurity,
          params: Params,
          response: { 200: DeadLetter, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => admin.get(request.params.id),
    );

    app.post(
      '/admin/dead-letters/:id/replay',
      {
        preHandler: [auth.require(ADMIN)],
        schema: {
          tags,
          summary: 'Deliver a dead letter again to its consumer, once it accepts the event (admin)',
          security: bearerSecurity,
          params: Params,
          response: {
            200: Type.Object({ outcome: Type.Literal('applied') }),
            ...errorResponses(400, 401, 403, 404, 409),
          },
        },
      },
      (request) => admin.replay(request.params.id),
    );

    app.delete(
      '/admin/dead-letters/:id',
      {
        preHandler: [auth.require(ADMIN)],
        schema: {
          tags,
          summary: 'Discard a dead letter (admin)',
          security: bearerSecurity,
          params: Params,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await admin.discard(request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
