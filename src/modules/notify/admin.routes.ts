import { randomUUID } from 'node:crypto';
import { pageOf } from '../../platform/http/pagination.js';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import {
  BroadcastInput,
  BroadcastView,
  DeliveryQuery,
  DeliveryView,
  Preview,
  PreviewParams,
  PreviewQuery,
} from './admin.schemas.js';
import type { BroadcastService } from './broadcast.service.js';
import type { DeliveryService } from './delivery.service.js';
import { rolesFor } from './permissions.js';
import { bearer } from './routes.common.js';
import { render, SAMPLE_PAYLOADS } from './templates.js';

export function adminRoutes(delivery: DeliveryService, broadcasts: BroadcastService) {
  return (app: App, { auth }: HttpKit) => {
    const operator = auth.require({ roles: rolesFor('notify:operate') });
    const broadcaster = auth.require({ roles: rolesFor('notify:broadcast') });
    const tags = ['notify'];

    app.get(
      '/admin/notify/templates/:kind/preview',
      {
        preHandler: [operator],
        schema: {
          tags,
          summary: 'A kind’s message rendered with sample data',
          security: bearer,
          params: PreviewParams,
          querystring: PreviewQuery,
          response: { 200: Preview, ...errorResponses(400, 401, 403) },
        },
      },
      (request) => {
        const { kind } = request.params;
        const locale = request.query.locale ?? 'en';
        const rendered = render(kind, SAMPLE_PAYLOADS[kind], locale);
        return { kind, locale, subject: rendered.subject, text: rendered.text, html: rendered.html };
      },
    );

    app.get(
      '/admin/notify/deliveries',
      {
        preHandler: [operator],
        schema: {
          tags,
          summary: 'Deliveries by status (failed and dead by default), most recent first, with their log',
          security: bearer,
          querystring: DeliveryQuery,
          response: { 200: pageOf(DeliveryView), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => delivery.list(request.query),
    );

    app.post(
      '/admin/notify/deliveries/:id/retry',
      {
        preHandler: [operator],
        schema: {
          tags,
          summary: 'Send a failed or dead delivery again',
          security: bearer,
          params: IdParams,
          response: { 200: DeliveryView, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      (request) => delivery.retry(request.params.id),
    );

    app.post(
      '/admin/notify/broadcasts',
      {
        preHandler: [broadcaster],
        schema: {
          tags,
          summary: 'Send an announcement to all users or a segment (delivered in batches)',
          security: bearer,
          body: BroadcastInput,
          response: { 202: BroadcastView, ...errorResponses(400, 401, 403) },
        },
      },
      async (request, reply) => {
        const view = await broadcasts.send(randomUUID(), request.body);
        return reply.status(202).send(view);
      },
    );

    app.get(
      '/admin/notify/broadcasts/:id',
      {
        preHandler: [broadcaster],
        schema: {
          tags,
          summary: 'How far a broadcast got',
          security: bearer,
          params: IdParams,
          response: { 200: BroadcastView, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => broadcasts.get(request.params.id),
    );
  };
}
