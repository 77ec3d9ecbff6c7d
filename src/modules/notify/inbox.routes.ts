import { Type } from 'typebox';
import { pageOf } from '../../platform/http/pagination.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { InboxQuery, MarkedAll, NotificationParams, NotificationView, UnreadCount } from './inbox.schemas.js';
import type { InboxService } from './inbox.service.js';
import { bearer, userIdOf } from './routes.common.js';

export function inboxRoutes(inbox: InboxService) {
  return (app: App, { auth }: HttpKit) => {
    const user = auth.require();
    const tags = ['notify'];

    app.get(
      '/me/notifications',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'My notifications, newest first',
          security: bearer,
          querystring: InboxQuery,
          response: { 200: pageOf(NotificationView), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => inbox.list(userIdOf(request), request.query),
    );

    app.get(
      '/me/notifications/unread-count',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'How many of my notifications are unread',
          security: bearer,
          response: { 200: UnreadCount, ...errorResponses(401, 403) },
        },
      },
      async (request) => ({ unread: await inbox.unread(userIdOf(request)) }),
    );

    app.post(
      '/me/notifications/:id/read',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Mark one of my notifications read (idempotent)',
          security: bearer,
          params: NotificationParams,
          response: { 200: NotificationView, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => inbox.markRead(userIdOf(request), request.params.id),
    );

    app.post(
      '/me/notifications/read-all',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Mark all my notifications read',
          security: bearer,
          response: { 200: MarkedAll, ...errorResponses(401, 403) },
        },
      },
      async (request) => ({ marked: await inbox.markAllRead(userIdOf(request)) }),
    );

    app.delete(
      '/me/notifications/:id',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Delete one of my notifications',
          security: bearer,
          params: NotificationParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await inbox.remove(userIdOf(request), request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
