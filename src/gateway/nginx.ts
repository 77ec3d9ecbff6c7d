import {
  type BalancingStrategy,
  GATEWAY_ROUTES,
  type GatewayRoute,
  nestedPattern,
  SERVICES,
  type ServiceName,
} from './route-map.js';

/**
 * nginx as Lectern's load balancer and router, rendered from the route map so the two never
 * disagree. The output is a whole nginx.conf (`nginx -c <file>`): deploy/nginx/lectern.conf is
 * its rendering for docker-compose (`scripts/nginx-config.ts`), and deploy/test/lb.ts renders one
 * for loopback instances.
 */

/**
 * How long nginx keeps an instance out after `max_fails` failed tries. An instance that went
 * down for a restart stays out this long after it is ready again, so a rolling restart waits it
 * out before taking the next one down (else all of a pool can be out at once: 502).
 */
export const FAIL_TIMEOUT_SECONDS = 10;

export interface UpstreamPool {
  /** `host:port` of each instance. */
  servers: readonly string[];
  strategy?: BalancingStrategy;
}

export interface NginxOptions {
  /** Address nginx listens on: `80`, `127.0.0.1:8080`. */
  listen: string;
  /** Instances per service; every service of the route map needs a pool. */
  pools: Record<ServiceName, UpstreamPool>;
  /** Requests per second per client address, and the burst allowed above it. */
  rateLimit?: { perSecond: number; burst: number };
  /** Largest request body outside upload paths, in megabytes (the app's own limit is lower for JSON). */
  maxBodyMb?: number;
  /** Passive health check: failures within `failTimeoutSeconds` that take an instance out for as long. */
  maxFails?: number;
  failTimeoutSeconds?: number;
  /** Idle keep-alive connections each nginx worker keeps to each pool. */
  keepalive?: number;
  /** Load the Debian brotli filter module (libnginx-mod-http-brotli-filter) and compress with it too. */
  brotliModule?: string | undefined;
  workerProcesses?: number | 'auto';
  /** Files nginx writes (access log `off` by default); a non-root nginx needs them somewhere it may write. */
  paths?: { pid?: string; errorLog?: string; accessLog?: string; tempDir?: string };
  /** Name the instance that answered in an `X-Upstream` header (the load-balancer test counts them). */
  exposeUpstream?: boolean;
}

// text/html is always compressed; naming it again is a warning
const COMPRESSIBLE = [
  'application/json',
  'application/problem+json',
  'application/javascript',
  'text/css',
  'text/plain',
  'image/svg+xml',
];

function upstream(name: ServiceName, pool: UpstreamPool, options: NginxOptions): string {
  const strategy = pool.strategy ?? SERVICES[name].strategy;
  const lines = [`    upstream ${name} {`];
  // round robin is nginx's default and has no directive
  if (strategy !== 'round_robin') lines.push(`        ${strategy};`);
  for (const server of pool.servers) {
    lines.push(
      `        server ${server} max_fails=${options.maxFails ?? 3} fail_timeout=${options.failTimeoutSeconds ?? FAIL_TIMEOUT_SECONDS}s;`,
    );
  }
  lines.push(`        keepalive ${options.keepalive ?? 32};`, '        keepalive_timeout 60s;', '    }');
  return lines.join('\n');
}

/**
 * One location per route; a prefix without `exact` also gets its subtree (`/x` and `/x/…`, not
 * `/xy`). A `nested` entry becomes a regex location inside the subtree's: nginx looks no further
 * than a `^~` prefix location's own nested locations, so the other routes stay plain prefixes.
 */
function locations(route: GatewayRoute, defaultBodyMb: number): string {
  const body = [`        proxy_pass http://${route.service};`];
  if (route.maxBodyMb) body.push(`        client_max_body_size ${route.maxBodyMb}m;`);
  if (route.sse) {
    body.push(
      '        # server-sent events: pass each event on at once, keep the stream open',
      '        proxy_buffering off;',
      '        proxy_cache off;',
      '        gzip off;',
      '        brotli off;',
      '        proxy_read_timeout 1h;',
      '        add_header X-Accel-Buffering no always;',
    );
  }
  const block = (modifier: string, path: string, inner: string[] = []) =>
    `    location ${modifier} ${path} {\n${[...inner, ...body].join('\n')}\n    }`;
  if (route.exact) return block('=', route.prefix);
  const pattern = nestedPattern(route);
  const nested =
    route.nested && pattern
      ? [
          `        location ~ ${pattern} {`,
          `            proxy_pass http://${route.nested.service};`,
          // nested locations inherit the outer body limit: the other service's routes take the default
          ...(route.maxBodyMb ? [`            client_max_body_size ${defaultBodyMb}m;`] : []),
          '        }',
        ]
      : [];
  return [block('=', route.prefix), block('^~', `${route.prefix}/`, nested)].join('\n');
}

export function renderNginxConfig(options: NginxOptions): string {
  const rate = options.rateLimit ?? { perSecond: 20, burst: 40 };
  const paths = options.paths ?? {};
  const temp = paths.tempDir;
  const brotli = options.brotliModule !== undefined;
  const routes = [...GATEWAY_ROUTES].sort((a, b) => a.prefix.localeCompare(b.prefix));
  const strip = (text: string) => (brotli ? text : text.replace(/^.*brotli.*\n/gm, ''));

  return `# Rendered from src/gateway/route-map.ts by src/gateway/nginx.ts; do not edit by hand
# (scripts/nginx-config.ts writes it again, and a test fails when it is stale).
${brotli ? `load_module ${options.brotliModule ?? ''};\n` : ''}worker_processes ${options.workerProcesses ?? 'auto'};
pid ${paths.pid ?? '/run/nginx.pid'};
error_log ${paths.errorLog ?? '/dev/stderr'} warn;

events {
    worker_connections 4096;
}

http {
    access_log ${paths.accessLog ?? 'off'};
    server_tokens off;
${
  temp
    ? ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((kind) => `    ${kind}_temp_path ${temp}/${kind};`)
        .join('\n')
        .concat('\n')
    : ''
}    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65s;

    # request size: JSON bodies are small (the app refuses more than BODY_LIMIT_BYTES anyway);
    # upload paths raise it below
    client_max_body_size ${options.maxBodyMb ?? 2}m;

    # responses compressed here, once, instead of in every instance
    gzip on;
    gzip_vary on;
    gzip_proxied any;
    gzip_min_length 1024;
    gzip_types ${COMPRESSIBLE.join(' ')};
${strip(`    brotli on;
    brotli_min_length 1024;
    brotli_types ${COMPRESSIBLE.join(' ')};
`)}
    # basic per-address rate limiting in front of the app's own (Redis-backed, per client) limits
    limit_req_zone $binary_remote_addr zone=per_ip:10m rate=${rate.perSecond}r/s;
    limit_req_status 429;
    limit_req_log_level warn;

${(Object.keys(SERVICES) as ServiceName[]).map((name) => upstream(name, options.pools[name], options)).join('\n\n')}

    server {
        listen ${options.listen};

        limit_req zone=per_ip burst=${rate.burst} nodelay;

        # keep-alive to the upstreams needs HTTP/1.1 and no "Connection: close" passed on
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Request-Id $request_id;
${options.exposeUpstream ? '        add_header X-Upstream $upstream_addr always;\n' : ''}
        # a failed or unreachable instance: try the next one, for idempotent requests only
        # (nginx retries POST, PATCH and LOCK only when told to, and this config does not)
        proxy_next_upstream error timeout http_502 http_503 http_504;
        proxy_next_upstream_tries 3;
        proxy_next_upstream_timeout 10s;
        proxy_connect_timeout 2s;
        proxy_send_timeout 60s;
        proxy_read_timeout 60s;

        # the gateway's own liveness; each instance's readiness is /readyz on the instance
        location = /healthz {
            access_log off;
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
        # metrics are scraped from each instance directly, never through the public gateway
        location = /metrics {
            return 404;
        }
        location / {
            default_type application/problem+json;
            return 404 '{"type":"about:blank","title":"Not Found","status":404,"code":"gateway.no-route"}';
        }

${routes
  .map((route) => locations(route, options.maxBodyMb ?? 2))
  .join('\n')
  .replace(/^/gm, '    ')
  .replace(/^ {4}$/gm, '')}
    }
}
`.replace(/^.*brotli off;\n/gm, brotli ? '$&' : '');
}

/** The gateway of deploy/docker-compose.yml: one pool per service, by its compose service name. */
export function composeNginxConfig(): string {
  const pool = (name: ServiceName): UpstreamPool => ({ servers: [`${name}:3000`] });
  const pools: Record<ServiceName, UpstreamPool> = {
    identity: pool('identity'),
    catalog: pool('catalog'),
    core: pool('core'),
    notify: pool('notify'),
  };
  return renderNginxConfig({
    listen: '8080',
    pools,
    // the official nginx image runs as root only to bind; these paths suit its non-root workers
    paths: { pid: '/tmp/nginx.pid', errorLog: '/dev/stderr', accessLog: '/dev/stdout', tempDir: '/tmp' },
  });
}
