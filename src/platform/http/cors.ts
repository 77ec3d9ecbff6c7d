import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

export interface CorsOptions {
  /** Allowed browser origins; `*` allows any (the request's origin is echoed back). */
  origins: string[];
  exposedHeaders: string[];
}

/**
 * CORS with `@fastify/cors`' exact headers, without its per-request work on ordinary requests.
 *
 * The plugin's hook copies its options object and resolves the origin on every request, also
 * when no `Origin` header is present (most API calls). Here preflights (OPTIONS) go to the plugin
 * in a context of its own, where its hook sees only its OPTIONS route; every other request gets
 * the same headers from one small hook: `Vary: Origin`, the exposed headers, and the allowed
 * origin when the request names one that is allowed.
 */
export async function registerCors(app: FastifyInstance, options: CorsOptions): Promise<void> {
  const any = options.origins.includes('*');
  await app.register(async (preflights) => {
    await preflights.register(cors, {
      origin: any ? true : options.origins,
      credentials: false,
      exposedHeaders: options.exposedHeaders,
    });
  });
  const allowed = new Set(options.origins);
  const exposed = options.exposedHeaders.join(', ');
  app.addHook('onRequest', (request, reply, done) => {
    if (request.raw.method === 'OPTIONS') {
      done();
      return;
    }
    const vary = reply.getHeader('vary');
    if (vary === undefined) reply.header('vary', 'Origin');
    else if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(String(vary)))
      reply.header('vary', `${String(vary)}, Origin`);
    const origin = request.headers.origin;
    if (origin && (any || allowed.has(origin))) {
      reply.header('access-control-allow-origin', origin);
    }
    reply.header('access-control-expose-headers', exposed);
    done();
  });
}
