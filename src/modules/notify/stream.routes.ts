import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { type InboxService, liveView } from './inbox.service.js';
import type { LiveHub, LiveItem } from './live.js';
import type { Locale } from './templates.js';
import { bearer, userIdOf } from './routes.common.js';

/**
 * `GET /me/notifications/stream`: Server-Sent Events of new inbox items. The token comes in the
 * Authorization header only (clients use a fetch-based SSE reader; a token in the URL would land
 * in access logs). Each item is an `event: notification` with the inbox view as data; comment
 * lines keep idle connections open through proxies. A client that reconnects reads the inbox for
 * what it missed: the stream carries no history.
 */
/**
 * The SSE frame of an item in a locale, rendered once for every stream of that person (one item
 * object reaches all their streams on this instance; a person may have many tabs and devices).
 */
const frames = new WeakMap<LiveItem, Map<Locale, string>>();
function frameOf(item: LiveItem, locale: Locale): string {
  let byLocale = frames.get(item);
  if (!byLocale) {
    byLocale = new Map();
    frames.set(item, byLocale);
  }
  let frame = byLocale.get(locale);
  if (frame === undefined) {
    frame = `id: ${item.id}\nevent: notification\ndata: ${JSON.stringify(liveView(item, locale))}\n\n`;
    byLocale.set(locale, frame);
  }
  return frame;
}

export function streamRoutes(inbox: InboxService, live: LiveHub, options: { heartbeatSeconds: number }) {
  return (app: App, { auth }: HttpKit) => {
    const open = new Set<ServerResponse>();

    // one heartbeat for every stream of this instance, not a timer each: a thousand streams are
    // one timer and one shared comment line, running only while a stream is open
    let heartbeat: NodeJS.Timeout | undefined;
    const ping = () => {
      for (const raw of open) raw.write(': ping\n\n');
    };
    const opened = (raw: ServerResponse) => {
      open.add(raw);
      if (!heartbeat) {
        heartbeat = setInterval(ping, options.heartbeatSeconds * 1000);
        heartbeat.unref();
      }
    };
    const closed = (raw: ServerResponse) => {
      open.delete(raw);
      if (open.size === 0 && heartbeat) {
        clearInterval(heartbeat);
        heartbeat = undefined;
      }
    };

    // the server's close waits for every connection; a stream never ends by itself, so end them
    // when shutdown begins (clients reconnect to another instance)
    app.addHook('preClose', (done) => {
      for (const raw of [...open]) {
        raw.end();
        closed(raw);
      }
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
        opened(raw);
        const stop = live.listen(userId, (item) => {
          raw.write(frameOf(item, locale));
        });
        const cleanup = () => {
          stop();
          closed(raw);
        };
        raw.on('close', cleanup);
        request.raw.on('close', cleanup);
      },
    );
  };
}
