import {
  type errorResponseBuilderContext,
  type FastifyRateLimitStore,
  type FastifyRateLimitStoreCtor,
  normalizeIP,
} from '@fastify/rate-limit';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import { LRUCache } from 'lru-cache';
import { withRouteHook } from './route-hooks.js';

export interface RateLimitSettings {
  /** Requests per client and window, on every route without limits of its own. */
  max: number;
  /** Window length in milliseconds. */
  timeWindow: number;
  store: FastifyRateLimitStoreCtor;
  /** Let the request through (counted as none) when the store fails. */
  skipOnError: boolean;
  /** What a refused request throws; the error handler turns it into the answer. */
  errorResponseBuilder: (request: FastifyRequest, context: errorResponseBuilderContext) => object;
}

/** What a route's `config.rateLimit` may say here: its own max, window and client key. */
interface RouteLimit {
  max: number;
  timeWindow: number;
  keyGenerator?: (request: FastifyRequest) => string | number | Promise<string | number>;
}

const ROUTE_KEYS = new Set(['max', 'timeWindow', 'keyGenerator']);

/**
 * The counter behind `@fastify/rate-limit`'s answers, as one synchronous onRequest hook per route:
 * the same headers (`x-ratelimit-limit`, `-remaining`, `-reset`; `retry-after` when refused), the
 * same client key (the address, IPv6 by /64), the same 429 from `errorResponseBuilder`, the same
 * stores (`store.child` per route with limits of its own), routes opting out with
 * `config: { rateLimit: false }`.
 *
 * The plugin's hook is an async function that awaits an async function that wraps the store's
 * callback in a promise, and it builds `request.routeOptions` (a dozen fields) to look for a
 * group id: three promises and an object on every request. The store answers most requests at
 * once (rate-limit-store.ts counts in memory), so here the hook calls `done` in the store's
 * callback, in the same turn. Only what Lectern uses is supported; a route asking for more
 * (allow lists, bans, functions as max or window) is refused when it is added, not ignored.
 */
export function registerRateLimit(app: FastifyInstance, settings: RateLimitSettings): void {
  const store = new settings.store({});
  const clientKey = createClientKey();
  const ipKey = (request: FastifyRequest) => clientKey(request.ip);
  app.addHook('onRoute', (route) => {
    const own: unknown = route.config?.rateLimit;
    if (own === false) return;
    let hook: ReturnType<typeof limiter>;
    if (own === undefined || own === null) {
      hook = limiter(store, settings.max, settings.timeWindow, ipKey, settings);
    } else {
      const limit = routeLimit(own, route);
      // the plugin's store.child gets its merged parameters with the route as `routeInfo`
      const child = store.child({ ...settings, ...limit, routeInfo: route } as never);
      hook = limiter(child, limit.max, limit.timeWindow, limit.keyGenerator ?? ipKey, settings);
    }
    route.onRequest = withRouteHook(route.onRequest, hook);
  });
}

/**
 * The plugin's client key for an address (`normalizeIP`: IPv6 by its /64, an IPv4-mapped address
 * as the IPv4 one), remembered per IPv6 address. normalizeIP runs net.isIPv6's long regexp on
 * every address and parses an IPv6 one into objects: 11–15 µs a request for an IPv6 client or an
 * IPv4 one seen on a dual-stack socket (`::ffff:…`), and a client keeps its address from one
 * request to the next. An address without a colon is not IPv6, and normalizeIP only lower-cases it.
 */
export function createClientKey(remembered = 10_000): (ip: string) => string {
  const known = new LRUCache<string, string>({ max: remembered });
  return (ip) => {
    if (!ip.includes(':')) return ip.toLowerCase();
    let key = known.get(ip);
    if (key === undefined) {
      key = normalizeIP(ip);
      known.set(ip, key);
    }
    return key;
  };
}

function routeLimit(own: unknown, route: RouteOptions): RouteLimit {
  const where = `${String(route.method)} ${route.url}`;
  if (typeof own !== 'object' || own === null) throw new Error(`${where}: unknown rate-limit configuration`);
  const limit = own as Partial<RouteLimit>;
  for (const key of Object.keys(limit)) {
    if (!ROUTE_KEYS.has(key)) throw new Error(`${where}: rate-limit option "${key}" is not supported`);
  }
  const { max, timeWindow, keyGenerator } = limit;
  if (typeof max !== 'number' || !Number.isFinite(max) || max < 0) {
    throw new Error(`${where}: rate-limit max must be a number ≥ 0`);
  }
  if (typeof timeWindow !== 'number' || !Number.isFinite(timeWindow) || timeWindow < 0) {
    throw new Error(`${where}: rate-limit timeWindow must be milliseconds ≥ 0`);
  }
  return {
    max: Math.trunc(max),
    timeWindow: Math.trunc(timeWindow),
    ...(keyGenerator ? { keyGenerator } : {}),
  };
}

type Counted = Parameters<FastifyRateLimitStore['incr']>[1];

function limiter(
  store: FastifyRateLimitStore,
  max: number,
  timeWindow: number,
  keyOf: (request: FastifyRequest) => string | number | Promise<string | number>,
  settings: RateLimitSettings,
) {
  const count = (
    key: string,
    request: FastifyRequest,
    reply: FastifyReply,
    done: HookHandlerDoneFunction,
  ) => {
    const answer: Counted = (err, result) => {
      let current = 0;
      let ttl = 0;
      if (err) {
        if (!settings.skipOnError) {
          done(err);
          return;
        }
      } else if (result) {
        current = result.current;
        ttl = result.ttl;
      }
      const reset = Math.ceil(ttl / 1000);
      reply.header('x-ratelimit-limit', max);
      if (current <= max) {
        reply.header('x-ratelimit-remaining', Math.max(0, max - current));
        reply.header('x-ratelimit-reset', reset);
        done();
        return;
      }
      reply.header('x-ratelimit-remaining', 0);
      reply.header('x-ratelimit-reset', reset);
      reply.header('retry-after', reset);
      const context = { statusCode: 429, ban: false, max, ttl, after: longDuration(reset * 1000) };
      done(settings.errorResponseBuilder(request, context) as Error);
    };
    store.incr(key, answer, timeWindow, max);
  };
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    let key: string | number | Promise<string | number>;
    try {
      key = keyOf(request);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (typeof key === 'object') {
      key.then(
        (k) => {
          count(String(k), request, reply, done);
        },
        (err: unknown) => {
          done(err as Error);
        },
      );
    } else {
      count(String(key), request, reply, done);
    }
  };
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365.25 * DAY;

/** `@lukeed/ms`'s `format(ms, true)`, which the plugin puts in the refusal: "1 minute", "30 seconds". */
export function longDuration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  const unit = (value: number, name: string) => {
    const n = (value | 0) === value ? value : Math.trunc(value + 0.5);
    return `${sign}${n} ${name}${n !== 1 ? 's' : ''}`;
  };
  if (abs < SECOND) return `${ms} ms`;
  if (abs < MINUTE) return unit(abs / SECOND, 'second');
  if (abs < HOUR) return unit(abs / MINUTE, 'minute');
  if (abs < DAY) return unit(abs / HOUR, 'hour');
  if (abs < YEAR) return unit(abs / DAY, 'day');
  return unit(abs / YEAR, 'year');
}
