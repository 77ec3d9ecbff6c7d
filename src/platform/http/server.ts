import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type onResponseHookHandler,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import type { Logger } from 'pino';
import type { Cache } from '../cache/cache.js';
import { AppError } from '../errors.js';
import type { Config, TrustProxy } from '../config.js';
import type { Metrics } from '../observability/metrics.js';
import { lazyChildLogger, RequestLogController } from '../observability/request-logger.js';
import { closeJsonBodies } from './closed-bodies.js';
import { type CorsOptions, corsHeaders, registerCorsPreflights } from './cors.js';
import { compileRouteSchemas, createLazySchemas, type PendingCompiles } from './lazy-compilers.js';
import { metricsAccess } from './metrics-access.js';
import { openApiOptions } from './openapi.js';
import { registerRateLimit } from './rate-limit.js';
import { createRateLimitStores } from './rate-limit-store.js';
import { withRouteHook } from './route-hooks.js';
import { batchAnswerWrites } from './write-batching.js';
import {
  clientErrorHandler,
  frameworkErrorHandler,
  ProblemSchema,
  problem,
  registerProblemHandlers,
  sendProblem,
} from './problem.js';
import { checkRequestText } from './text-guard.js';
import { guardFiniteNumbers } from './finite-numbers.js';
import { securityHeaders } from './security-headers.js';

export interface ServerOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  cache: Cache;
  /** Named dependency checks for /readyz; each throws when its dependency is down. */
  readiness: Record<string, () => Promise<void>>;
}

/** The Fastify instance every route is written against: TypeBox schemas type the request. */
export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** A caller's (or nginx's) request id when it is sane, so one id follows a request across hops. */
export const requestIdOf = (req: RawRequestDefaultExpression): string => {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
};

/** CORS as every response answers it: the allowed origins, and the headers a browser may read. */
export const corsOptionsOf = (origins: Config['corsOrigins']): CorsOptions => ({
  origins,
  exposedHeaders: ['x-request-id', 'retry-after', 'idempotent-replayed', 'location'],
});

// probes and scrapes are never rate limited: the limiter's hook is not even added to their routes
const unlimited = { rateLimit: false } as const;

/**
 * The edge every request passes. One onRequest hook: the headers every response carries (the
 * request id, helmet's, computed once at start-up, and CORS on all but preflights), then the
 * refusal of a compressed body. One synchronous hook rather than four: each hook is a step of
 * Fastify's hook runner per request. The headers go to Fastify's reply headers, not to the raw
 * response, so Node writes them in one pass (setting any on the raw response sends every header
 * through setHeader's validation and then through the header block's assembly again). And the
 * answers written together at the end of the event loop's turn (write-batching.ts).
 */
export function addEdgeHook(app: FastifyInstance, cors: CorsOptions): void {
  const security = securityHeaders().map(([name, value]) => [name.toLowerCase(), value] as const);
  const setCors = corsHeaders(cors);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    for (const [name, value] of security) reply.header(name, value);
    if (request.raw.method !== 'OPTIONS') setCors(request, reply);
    done(unsupportedEncoding(request.headers['content-encoding']));
  });
  batchAnswerWrites(app);
}

/**
 * TRUST_PROXY as Fastify takes it. A count becomes a check of the hop (Fastify's own count trusts
 * nothing): the proxies in front are believed, so the client is the address the farthest of them
 * saw, never what a client wrote at the start of X-Forwarded-For, which nginx passes on.
 */
function trustProxyOption(trust: TrustProxy): false | string | ((address: string, hop: number) => boolean) {
  if (typeof trust !== 'number') return trust;
  return (_address, hop) => hop < trust;
}

/** Fastify with every cross-cutting concern; modules add routes to what this returns. */
const pendingCompilesOf = new WeakMap<App, PendingCompiles>();

/** Compile every route schema no request has compiled yet (tests: proves each one compiles). */
export function compileAllRouteSchemas(app: App, onError: (err: unknown) => void): Promise<number> {
  return compileRouteSchemas(pendingCompilesOf.get(app) ?? new Set(), onError);
}

export async function createHttpServer(options: ServerOptions): Promise<App> {
  const { config, logger, metrics, cache, readiness } = options;
  // typed as Fastify's logger interface so the instance matches `App` (pino's own type is wider)
  const baseLogger: FastifyBaseLogger = logger;
  const lazySchemas = createLazySchemas();
  const app = Fastify({
    loggerInstance: baseLogger,
    // request lines at debug, and request.log built only when a line is written
    logController: new RequestLogController(),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: config.bodyLimit,
    trustProxy: trustProxyOption(config.trustProxy),
    requestIdHeader: false,
    genReqId: requestIdOf,
    // no removeAdditional: an unknown body field is a 400 (see closed-bodies.ts), never dropped unheard
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true },
    },
    // each route's validators and serializers are compiled on its first request, not at start
    schemaController: lazySchemas.schemaController,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<TypeBoxTypeProvider>();

  pendingCompilesOf.set(app, lazySchemas.pending);
  // once listening, what no request has compiled yet is compiled in the background, a batch per
  // turn of the event loop: no user's first request waits for it, and a schema that does not
  // compile is in the log at start, not only at its first request
  app.addHook('onListen', (done) => {
    void compileRouteSchemas(lazySchemas.pending, (err) => {
      logger.error({ err }, 'a route schema does not compile');
    });
    done();
  });

  app.addSchema(ProblemSchema);
  registerProblemHandlers(app);
  const cors = corsOptionsOf(config.corsOrigins);
  addEdgeHook(app, cors);
  registerInputHardening(app);

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  // a keep-alive connection still busy when close() began would otherwise hold the server open
  // until its idle timeout: tell the client to go away once this answer is written
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  if (config.debugResponseDelayMs > 0) {
    // only deploy/test/lb.ts sets it: a slow instance for the least-connections run
    const delay = config.debugResponseDelayMs;
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.url === '/healthz' || request.url === '/readyz') done();
      else setTimeout(done, delay);
    });
  }
  observeDurations(app, metrics);
  await registerCorsPreflights(app, cors);
  const rateLimits = createRateLimitStores({ redis: cache.redis, nameSpace: 'lectern-rl:' });
  app.addHook('onClose', async () => {
    await rateLimits.stop();
  });
  registerRateLimit(app, {
    max: config.rateLimitMax,
    timeWindow: config.rateLimitWindowMs,
    store: rateLimits.Store,
    // the store counts locally when Redis is down; an error from it must still not fail requests
    skipOnError: true,
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      code: 'FST_RATE_LIMITED',
      message: `Too many requests; retry after ${context.after}.`,
    }),
  });

  await app.register(swagger, openApiOptions(config));
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  app.get('/healthz', { schema: { hide: true }, config: unlimited }, () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true }, config: unlimited }, async (request, reply) => {
    if (closing) {
      return sendProblem(
        request,
        reply,
        problem(503, 'service.shutting-down', 'This instance is shutting down.'),
      );
    }
    const checks: Record<string, string> = {};
    await Promise.all(
      Object.entries(readiness).map(async ([name, check]) => {
        try {
          await check();
          checks[name] = 'ok';
        } catch (err) {
          // the reason goes to the log only: it can name hosts, users and versions
          request.log.warn({ err, dependency: name }, 'readiness check failed');
          checks[name] = 'failed';
        }
      }),
    );
    const ok = Object.values(checks).every((v) => v === 'ok');
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
  app.get('/metrics', { schema: { hide: true }, config: unlimited }, async (request, reply) => {
    const refusal = metricsAccess(request, config.metricsToken);
    if (refusal) return sendProblem(request, reply, refusal);
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app;
}

/**
 * Each request's duration under its route template. A route's hook knows its template from when
 * the route was added: reading `request.routeOptions.url` builds Fastify's whole route-options
 * object (a dozen fields) on every request. Requests no route matched are counted by the one
 * app-wide hook, which does nothing for the others.
 */
function observeDurations(app: App, metrics: Metrics): void {
  app.addHook('onRoute', (route) => {
    const url = route.url;
    const observe: onResponseHookHandler = (request, reply, done) => {
      metrics.observeHttp(request.method, url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = withRouteHook(route.onResponse, observe);
  });
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404)
      metrics.observeHttp(request.method, 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * Fastify never decodes a compressed body: parsing gzip bytes as JSON would call it malformed.
 * The check runs in the edge hook (addEdgeHook), after the response's headers are set.
 */
function unsupportedEncoding(coding: string | undefined): AppError | undefined {
  if (coding === undefined || coding.trim().toLowerCase() === 'identity') return undefined;
  return new AppError(
    'unsupported',
    'request.unsupported-content-encoding',
    'Send the body without a content coding.',
  );
}

/**
 * Edge checks for every route, kept apart from the other hooks: JSON bodies are closed to unknown
 * fields, text must be valid Unicode without control characters, and a body in a media type
 * nobody parses is a 415 (Fastify's default text/plain parser would hand a string to a route
 * that expects an object, and schema validation would call it a 400).
 */
function registerInputHardening(app: App): void {
  app.removeContentTypeParser('text/plain');
  app.addHook('onRoute', closeJsonBodies);
  app.addHook('onRoute', guardFiniteNumbers);
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      checkRequestText(request);
      done();
    } catch (err) {
      done(err as Error);
    }
  });
}
