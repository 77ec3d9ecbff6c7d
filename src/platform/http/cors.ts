import cors from '@fastify/cors';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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
 * the same headers from `corsHeaders`, which the server calls from its one onRequest hook:
 * `Vary: Origin`, the exposed headers, and the allowed origin when the request names one that is
 * allowed.
 */
export async function registerCorsPreflights(app: FastifyInstance, options: CorsOptions): Promise<void> {
  await app.register(async (preflights) => {
    await preflights.register(cors, {
      origin: options.origins.includes('*') ? true : options.origins,
      credentials: false,
      exposedHeaders: options.exposedHeaders,
    });
  });
}

/** The CORS headers of a request that is not a preflight; call before anything sets `Vary`. */
export function corsHeaders(options: CorsOptions): (request: FastifyRequest, reply: FastifyReply) => void {
  const any = options.origins.includes('*');
  const allowed = new Set(options.origins);
  const exposed = options.exposedHeaders.join(', ');
  return (request, reply) => {
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin && (any || allowed.has(origin))) reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', exposed);
  };
}
