import type { ModuleName } from '../modules/registry.js';

/**
 * The gateway route map: which deployable service runs which modules, and which path prefixes
 * the load balancer sends to it. nginx's config is rendered from it (./nginx.ts,
 * `scripts/nginx-config.ts`), and test/deploy/route-map.test.ts checks it against every route the
 * modules register, so a new route that lands on the wrong service fails a test, not production.
 *
 * The split follows what can run apart today: a module can leave a process only if every module
 * that requires it reaches it over HTTP (a `remote` entry in the registry). Identity, catalog and
 * learning have one. The catalog still shares `core` because of its paths, not its calls: learning
 * and community serve routes nested under the catalog's (`/courses/:id/enrol`, `/courses/:id/reviews`,
 * `/lessons/:id/progress`, `/lessons/:id/comments`), which a prefix map cannot tell apart from
 * `/courses/:id` and `/lessons/:id`.
 */

export type BalancingStrategy = 'round_robin' | 'least_conn' | 'ip_hash';

export interface ServiceDefinition {
  /** Modules this service runs: `lectern serve --modules <these>`. */
  modules: readonly ModuleName[];
  /** Default strategy of its upstream pool (each deployment may choose another). */
  strategy: BalancingStrategy;
  /** Why that strategy, for the operations guide and the reviewer. */
  why: string;
}

export const SERVICES = {
  identity: {
    modules: ['identity'],
    strategy: 'round_robin',
    why: 'short, uniform requests (token checks, logins): even spread is enough',
  },
  core: {
    modules: ['catalog', 'learning', 'community', 'commerce', 'analytics'],
    strategy: 'least_conn',
    why: 'mixed request costs (search, checkout, uploads): a busy instance gets less',
  },
  notify: {
    modules: ['notify'],
    strategy: 'ip_hash',
    why: 'long-lived SSE streams: a reconnecting client returns to the same instance',
  },
} as const satisfies Record<string, ServiceDefinition>;

export type ServiceName = keyof typeof SERVICES;

export interface GatewayRoute {
  /** A path prefix on segment boundaries: `/api/v1/me/mfa` matches `/api/v1/me/mfa/totp`, not `/api/v1/me/mfax`. */
  prefix: string;
  service: ServiceName;
  /** Only the path itself, not what lies below it. */
  exact?: boolean;
  /** Server-sent events: no buffering, no compression, a long read timeout. */
  sse?: boolean;
  /** A larger body limit than the gateway's default (uploads), in megabytes. */
  maxBodyMb?: number;
}

/** Longest prefix wins, as nginx's prefix locations do. */
export const GATEWAY_ROUTES: readonly GatewayRoute[] = [
  // identity: the token endpoints and keys every service verifies tokens with
  { prefix: '/.well-known', service: 'identity' },
  { prefix: '/oauth', service: 'identity' },
  { prefix: '/internal/v1/identity', service: 'identity' },
  { prefix: '/api/v1/auth', service: 'identity' },
  { prefix: '/api/v1/me', service: 'identity', exact: true },
  { prefix: '/api/v1/me/password', service: 'identity' },
  { prefix: '/api/v1/me/mfa', service: 'identity' },
  { prefix: '/api/v1/me/instructor-application', service: 'identity' },
  { prefix: '/api/v1/me/instructor-profile', service: 'identity' },
  { prefix: '/api/v1/admin/users', service: 'identity' },
  { prefix: '/api/v1/admin/audit', service: 'identity' },
  { prefix: '/api/v1/admin/clients', service: 'identity' },
  { prefix: '/api/v1/admin/instructor-applications', service: 'identity' },
  { prefix: '/api/v1/admin/keys', service: 'identity' },
  // notify: the inbox, its live stream, preferences and the admin's delivery tools
  { prefix: '/api/v1/me/notifications', service: 'notify' },
  { prefix: '/api/v1/me/notifications/stream', service: 'notify', sse: true },
  { prefix: '/api/v1/me/notification-preferences', service: 'notify' },
  { prefix: '/api/v1/admin/notify', service: 'notify' },
  // core: everything else under the API, the catalog's and learning's internal APIs, and the API documents
  { prefix: '/api/v1', service: 'core' },
  { prefix: '/internal/v1/catalog', service: 'core' },
  { prefix: '/internal/v1/learning', service: 'core' },
  // uploads of course files (video up to 2 GiB; the catalog checks each kind's own limit)
  { prefix: '/api/v1/courses', service: 'core', maxBodyMb: 2048 },
  { prefix: '/docs', service: 'core' },
  { prefix: '/openapi.json', service: 'core', exact: true },
];

const covers = (route: GatewayRoute, path: string): boolean =>
  path === route.prefix || (!route.exact && path.startsWith(`${route.prefix}/`));

/** The route entry the gateway uses for a path (longest matching prefix), or undefined (nginx answers 404). */
export function routeOf(path: string): GatewayRoute | undefined {
  let best: GatewayRoute | undefined;
  for (const route of GATEWAY_ROUTES) {
    if (covers(route, path) && (!best || route.prefix.length > best.prefix.length)) best = route;
  }
  return best;
}

/** The service that runs a module. */
export function serviceOfModule(module: ModuleName): ServiceName {
  for (const [name, service] of Object.entries(SERVICES) as [ServiceName, ServiceDefinition][]) {
    if (service.modules.includes(module)) return name;
  }
  throw new Error(`no service runs module "${module}"`);
}
