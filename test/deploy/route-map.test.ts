import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServedRoute } from '../../src/app.js';
import { composeNginxConfig, renderNginxConfig } from '../../src/gateway/nginx.js';
import {
  GATEWAY_ROUTES,
  routeOf,
  SERVICES,
  type ServiceName,
  serviceOfModule,
} from '../../src/gateway/route-map.js';
import { composeModules, MODULE_NAMES, type ModuleName } from '../../src/modules/registry.js';
import { loadModuleSettings } from '../../src/modules/settings.js';
import { buildAllModulesApp } from '../helpers/all-modules.js';
import type { TestApp } from '../helpers/app.js';

const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const nginx = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].find((p) =>
  existsSync(p),
);

let t: TestApp;
let routes: ServedRoute[];

beforeAll(async () => {
  ({ t } = await buildAllModulesApp({ worker: false }));
  routes = t.routes;
});

afterAll(async () => {
  await t.stop();
});

describe('the gateway route map', () => {
  it('every module runs in exactly one service', () => {
    const placed = Object.values(SERVICES).flatMap((s) => [...s.modules]);
    expect([...placed].sort()).toEqual([...MODULE_NAMES].sort());
    expect(new Set(placed).size).toBe(placed.length);
  });

  it('sends every route a module registers to the service that runs that module', () => {
    expect(routes.length).toBeGreaterThan(100);
    const wrong: string[] = [];
    for (const route of routes) {
      const entry = routeOf(route.url);
      // the platform's admin routes (dead letters) are served by every service
      const expected =
        route.owner === 'platform' ? entry?.service : serviceOfModule(route.owner as ModuleName);
      if (!entry || entry.service !== expected) {
        wrong.push(`${route.method} ${route.url} (${route.owner}) → ${entry?.service ?? 'no route'}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('has no entry that no route uses', () => {
    const documents = new Set(['/docs', '/openapi.json']);
    const unused = GATEWAY_ROUTES.filter(
      (entry) => !documents.has(entry.prefix) && !routes.some((r) => routeOf(r.url) === entry),
    );
    expect(unused.map((e) => e.prefix)).toEqual([]);
  });

  it('answers the longest prefix, on segment boundaries', () => {
    expect(routeOf('/api/v1/me')?.service).toBe('identity');
    expect(routeOf('/api/v1/me/notifications/stream')).toMatchObject({ service: 'notify', sse: true });
    expect(routeOf('/api/v1/me/favourites')?.service).toBe('catalog');
    expect(routeOf('/api/v1/me/learning')?.service).toBe('core');
    expect(routeOf('/api/v1/me/mfax')?.service).toBe('core');
    expect(routeOf('/api/v1/admin/users/1/roles')?.service).toBe('identity');
    expect(routeOf('/metrics')).toBeUndefined();
    expect(routeOf('/nowhere')).toBeUndefined();
  });

  it("sends learning's and community's routes below a course or a lesson to core, the rest to the catalog", () => {
    expect(routeOf('/api/v1/courses')).toMatchObject({ service: 'catalog', maxBodyMb: 2048 });
    expect(routeOf('/api/v1/courses/:courseId/assets')?.service).toBe('catalog');
    expect(routeOf('/api/v1/courses/c1/outline')?.service).toBe('catalog');
    expect(routeOf('/api/v1/courses/c1/enrol')?.service).toBe('core');
    expect(routeOf('/api/v1/courses/c1/reviews/r1')?.service).toBe('core');
    // the catalog's upload limit stays with the catalog
    expect(routeOf('/api/v1/courses/c1/reviews')?.maxBodyMb).toBeUndefined();
    expect(routeOf('/api/v1/courses/c1/reviewsx')?.service).toBe('catalog');
    expect(routeOf('/api/v1/courses/enrol')?.service).toBe('catalog');
    expect(routeOf('/api/v1/lessons/l1')?.service).toBe('catalog');
    expect(routeOf('/api/v1/lessons/l1/asset-url')?.service).toBe('catalog');
    expect(routeOf('/api/v1/lessons/l1/progress')?.service).toBe('core');
    expect(routeOf('/api/v1/lessons/l1/comments')?.service).toBe('core');
    expect(routeOf('/internal/v1/catalog/courses/c1/for-sale')?.service).toBe('catalog');
    const conf = composeNginxConfig();
    expect(conf).toContain('location ~ ^/api/v1/courses/[^/]+/(enrol|rating|reviews)(/|$) {');
    expect(conf).toContain('location ~ ^/api/v1/lessons/[^/]+/(access|content|progress|comments)(/|$) {');
  });

  it('each service can be composed on its own: `lectern serve --modules` with the others as URLs', () => {
    const settings = loadModuleSettings({
      IDENTITY_URL: 'http://identity.invalid:3000',
      CATALOG_URL: 'http://catalog.invalid:3000',
      LEARNING_URL: 'http://core.invalid:3000',
    });
    const platform = {
      ...t.platform,
      config: { ...t.platform.config, internalClientId: 'svc', internalClientSecret: 'secret' },
    };
    for (const [name, service] of Object.entries(SERVICES) as [
      ServiceName,
      (typeof SERVICES)[ServiceName],
    ][]) {
      const composed = composeModules(platform, service.modules, settings);
      expect(
        composed.modules.map((m) => m.name),
        name,
      ).toEqual([...service.modules]);
    }
  });
});

describe('the nginx config', () => {
  it('deploy/nginx/lectern.conf is the current rendering (run scripts/nginx-config.ts)', () => {
    expect(readFileSync(path.join(root, 'deploy/nginx/lectern.conf'), 'utf8')).toBe(composeNginxConfig());
  });

  it('turns buffering off for the SSE path only, and never retries a non-idempotent request', () => {
    const conf = composeNginxConfig();
    expect(conf).toMatch(/location \^~ \/api\/v1\/me\/notifications\/stream\/ \{[^}]*proxy_buffering off;/);
    expect(conf.match(/proxy_buffering off;/g)).toHaveLength(2);
    expect(conf).toContain('proxy_next_upstream error timeout http_502 http_503 http_504;');
    expect(conf).not.toContain('non_idempotent');
    expect(conf).toMatch(/upstream core \{\s+least_conn;/);
    expect(conf).toMatch(/upstream notify \{\s+ip_hash;/);
    expect(conf).toContain('limit_req zone=per_ip');
  });

  it.skipIf(!nginx)(
    'nginx -t accepts a rendering for loopback instances, with brotli when installed',
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'lectern-nginx-'));
      try {
        const brotli = '/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so';
        const conf = renderNginxConfig({
          listen: '127.0.0.1:18080',
          pools: {
            identity: { servers: ['127.0.0.1:18081'] },
            catalog: { servers: ['127.0.0.1:18085'] },
            core: { servers: ['127.0.0.1:18082', '127.0.0.1:18083'], strategy: 'round_robin' },
            notify: { servers: ['127.0.0.1:18084'] },
          },
          brotliModule: existsSync(brotli) ? brotli : undefined,
          paths: { pid: `${dir}/nginx.pid`, errorLog: `${dir}/error.log`, tempDir: dir },
        });
        await writeFile(`${dir}/nginx.conf`, conf);
        const checked = await run(nginx ?? 'nginx', ['-t', '-q', '-p', dir, '-c', `${dir}/nginx.conf`]);
        expect(checked.stderr).toBe('');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
  it.skipIf(!nginx)(
    "a running nginx sends learning's and community's routes below the catalog's paths to core",
    async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'lectern-nginx-nested-'));
      // one stand-in instance per service, answering its own name
      const servers = await Promise.all(
        (Object.keys(SERVICES) as ServiceName[]).map(async (name) => {
          const server = createServer((_request, response) => {
            response.setHeader('content-type', 'text/plain');
            response.end(name);
          });
          await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
          return { name, server, port: (server.address() as AddressInfo).port };
        }),
      );
      const port = await new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port: free } = probe.address() as AddressInfo;
          probe.close(() => {
            resolve(free);
          });
        });
      });
      const pools = Object.fromEntries(
        servers.map((s) => [s.name, { servers: [`127.0.0.1:${s.port}`] }]),
      ) as Record<ServiceName, { servers: string[] }>;
      await writeFile(
        `${dir}/nginx.conf`,
        renderNginxConfig({
          listen: `127.0.0.1:${port}`,
          pools,
          workerProcesses: 1,
          paths: { pid: `${dir}/nginx.pid`, errorLog: `${dir}/error.log`, tempDir: dir },
        }),
      );
      const child = spawn(nginx ?? 'nginx', ['-p', dir, '-c', `${dir}/nginx.conf`, '-g', 'daemon off;'], {
        stdio: 'ignore',
      });
      try {
        const serviceOf = async (url: string) => {
          for (let attempt = 0; ; attempt += 1) {
            try {
              return await (await fetch(`http://127.0.0.1:${port}${url}`)).text();
            } catch (err) {
              if (attempt >= 50) throw err;
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
        };
        const expected: Record<string, ServiceName> = {
          '/api/v1/courses': 'catalog',
          '/api/v1/courses/c1': 'catalog',
          '/api/v1/courses/c1/outline': 'catalog',
          '/api/v1/courses/c1/enrol': 'core',
          '/api/v1/courses/c1/reviews': 'core',
          '/api/v1/courses/c1/reviews/r1': 'core',
          '/api/v1/courses/c1/reviewsx': 'catalog',
          '/api/v1/lessons/l1': 'catalog',
          '/api/v1/lessons/l1/asset-url': 'catalog',
          '/api/v1/lessons/l1/progress': 'core',
          '/api/v1/lessons/l1/comments': 'core',
          '/internal/v1/catalog/courses/c1/for-sale': 'catalog',
          '/api/v1/orders': 'core',
          '/api/v1/me': 'identity',
        };
        for (const [url, service] of Object.entries(expected)) {
          expect(await serviceOf(url), url).toBe(service);
          // the route map's answer, which the route tests check against every module's routes
          expect(routeOf(url)?.service, url).toBe(service);
        }
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
        await Promise.all(servers.map((s) => new Promise((resolve) => s.server.close(resolve))));
        await rm(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});
