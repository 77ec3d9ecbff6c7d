import type { ModuleName } from '../modules/registry.js';

/**
 * The gateway route map: which deployable service runs which modules, and which path prefixes
 * the load balancer sends to it. nginx's config is rendered from it (./nginx.ts,
 * `scripts/nginx-config.ts`), and test/deploy/route-map.test.ts checks it against every route the
 * modules register, so a new route that lands on the wrong service fails a test, not production.
 *
 * The split follows what can run apart today: a module can leave a process only if every module
 * that requires it reaches it over HTTP (a `remote` entry in the registry). Identity, catalog and
 * learning have one, so each runs as its own service; community, commerce and analytics (nobody
 * calls them synchronously) share `core` with learning. Learning and community serve a few routes
 * nested under the catalog's (`/courses/:id/enrol`, `/lessons/:id/progress`…): the catalog's
 * entries name them in `nested`, and nginx sends them on with a regex location inside the
 * catalog's prefix location.
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
  catalog: {
    modules: ['catalog'],
    strategy: 'least_conn',
    why: 'cheap cached browsing beside long uploads and file downloads: a busy instance gets less',
  },
  core: {
    modules: ['learning', 'community', 'commerce', 'analytics'],
    strategy: 'least_conn',
    why: 'mixed request costs (checkout, progress, reports): a busy instance gets less',
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
  /**
   * Routes of another service below this prefix, one id segment down: `<prefix>/<id>/<segment>`
   * and what lies below it go to `service` (with the gateway's default body limit).
   */
  nested?: { segments: readonly string[]; service: ServiceName };
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
  { prefix: '/api/v1/me/email', service: 'identity' },
  { prefix: '/api/v1/me/close', service: 'identity' },
  { prefix: '/api/v1/me/data-exports', service: 'identity' },
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
  // catalog: courses, their outline and files, browsing, wishlists; learning's and community's
  // routes below a course or a lesson stay with core
  { prefix: '/internal/v1/catalog', service: 'catalog' },
  { prefix: '/api/v1/categories', service: 'catalog' },
  { prefix: '/api/v1/tags', service: 'catalog' },
  // uploads of course files (video up to 2 GiB; the catalog checks each kind's own limit)
  {
    prefix: '/api/v1/courses',
    service: 'catalog',
    maxBodyMb: 2048,
    nested: { segments: ['enrol', 'rating', 'reviews'], service: 'core' },
  },
  { prefix: '/api/v1/chapters', service: 'catalog' },
  {
    prefix: '/api/v1/lessons',
    service: 'catalog',
    nested: { segments: ['access', 'content', 'progress', 'comments'], service: 'core' },
  },
  { prefix: '/api/v1/assets', service: 'catalog' },
  { prefix: '/api/v1/instructors', service: 'catalog' },
  { prefix: '/api/v1/review', service: 'catalog' },
  { prefix: '/api/v1/studio', service: 'catalog' },
  { prefix: '/api/v1/me/favourites', service: 'catalog' },
  { prefix: '/api/v1/me/invitations', service: 'catalog' },
  // core: everything else under the API, learning's internal API, and the API documents
  { prefix: '/api/v1', service: 'core' },
  { prefix: '/internal/v1/learning', service: 'core' },
  { prefix: '/docs', service: 'core' },
  { prefix: '/openapi.json', service: 'core', exact: true },
];

const covers = (route: GatewayRoute, path: string): boolean =>
  path === route.prefix || (!route.exact && path.startsWith(`${route.prefix}/`));

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The paths a route's `nested` entry takes away, as nginx's regex location matches them. */
export function nestedPattern(route: GatewayRoute): string | undefined {
  if (!route.nested) return undefined;
  return `^${escapeRegex(route.prefix)}/[^/]+/(${route.nested.segments.map(escapeRegex).join('|')})(/|$)`;
}

/**
 * The route entry the gateway uses for a path (longest matching prefix; a `nested` path of it
 * is that entry with the nested service), or undefined (nginx answers 404).
 */
export function routeOf(path: string): GatewayRoute | undefined {
  let best: GatewayRoute | undefined;
  for (const route of GATEWAY_ROUTES) {
    if (covers(route, path) && (!best || route.prefix.length > best.prefix.length)) best = route;
  }
  const nested = best && nestedPattern(best);
  if (best?.nested && nested && new RegExp(nested).test(path)) {
    const { nested: inner, maxBodyMb: _wider, ...rest } = best;
    return { ...rest, service: inner.service };
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
