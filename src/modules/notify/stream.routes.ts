import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { type InboxService, liveView } from './inbox.service.js';
import type { LiveHub } from './live.js';
import { bearer, userIdOf } from './routes.common.js';

/**
 * `GET /me/notifications/stream`: Server-Sent Events of new inbox items. The token comes in the
 * Authorization header only (clients use a fetch-based SSE reader; a token in the URL would land
 * in access logs). Each item is an `event: notification` with the inbox view as data; comment
 * lines keep idle connections open through proxies. A client that reconnects reads the inbox for
 * what it missed: the stream carries no history.
 */
export function streamRoutes(inbox: InboxService, live: LiveHub, options: { heartbeatSeconds: number }) {
  return (app: App, { auth }: HttpKit) => {
    const open = new Set<ServerResponse>();

    // the server's close waits for every connection; a stream never ends by itself, so end them
    // when shutdown begins (clients reconnect to another instance)
    app.addHook('preClose', (done) => {
      for (const raw of open) raw.end();
      open.clear();
      done();
    });

    app.get(
      '/me/notifications/stream',
      {
        preHandler: [auth.require()],
        schema: {
          tags: ['notify'],
          summary: 'New notifications as Server-Sent Events',
          description:
            'text/event-stream: `event: notification` with a notification as data, comment lines as heartbeats.',
          security: bearer,
          response: { 200: Type.String({ description: 'an event stream' }), ...errorResponses(401, 403) },
        },
      },
      async (request, reply) => {
        const userId = userIdOf(request);
        const locale = await inbox.localeOf(userId);
        const raw = reply.raw;
        reply.hijack();
        raw.writeHead(200, {
          ...(reply.getHeaders() as Record<string, string>),
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        raw.write('retry: 3000\n\n: connected\n\n');
        open.add(raw);
        const stop = live.listen(userId, (item) => {
          raw.write(
            `id: ${item.id}\nevent: notification\ndata: ${JSON.stringify(liveView(item, locale))}\n\n`,
          );
        });
        const heartbeat = setInterval(() => raw.write(': ping\n\n'), options.heartbeatSeconds * 1000);
        heartbeat.unref();
        const cleanup = () => {
          clearInterval(heartbeat);
          stop();
          open.delete(raw);
        };
        raw.on('close', cleanup);
        request.raw.on('close', cleanup);
      },
    );
  };
}
