import rateLimitPlugin, { normalizeIP } from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { createClientKey, registerRateLimit } from './rate-limit.js';
import { createRateLimitStores } from './rate-limit-store.js';

const settings = (store: ReturnType<typeof createRateLimitStores>) => ({
  max: 3,
  timeWindow: 60_000,
  store: store.Store,
  skipOnError: true,
  errorResponseBuilder: (_request: FastifyRequest, context: { after: string }) => ({
    statusCode: 429,
    code: 'FST_RATE_LIMITED',
    message: `Too many requests; retry after ${context.after}.`,
  }),
});

/** The same routes on either limiter: global limits, a route's own (keyed by a header), none. */
async function routes(app: FastifyInstance): Promise<FastifyInstance> {
  app.setErrorHandler((error: { statusCode?: number; code?: string; message?: string }, _request, reply) =>
    reply.status(error.statusCode ?? 500).send({ code: error.code, message: error.message }),
  );
  app.get('/global', () => ({ ok: true }));
  app.get(
    '/own',
    {
      config: {
        rateLimit: { max: 2, timeWindow: 1000, keyGenerator: (r) => String(r.headers['x-client']) },
      },
    },
    () => ({ ok: true }),
  );
  app.get(
    '/async-key',
    // a key that comes as a promise (the plugin awaits whatever keyGenerator returns)
    { config: { rateLimit: { max: 1, timeWindow: 60_000, keyGenerator: () => Promise.resolve('k') } } },
    () => ({ ok: true }),
  );
  app.get('/free', { config: { rateLimit: false } }, () => ({ ok: true }));
  await app.ready();
  return app;
}

const stores: ReturnType<typeof createRateLimitStores>[] = [];
async function withPlugin() {
  const store = createRateLimitStores();
  stores.push(store);
  const app = Fastify();
  await app.register(rateLimitPlugin, settings(store));
  return routes(app);
}
async function withOwnHook() {
  const store = createRateLimitStores();
  stores.push(store);
  const app = Fastify();
  registerRateLimit(app, settings(store));
  return routes(app);
}

const requests: { method: 'GET' | 'HEAD'; url: string; client?: string }[] = [
  ...Array.from({ length: 5 }, () => ({ method: 'GET' as const, url: '/global' })),
  { method: 'HEAD', url: '/global' },
  ...Array.from({ length: 3 }, () => ({ method: 'GET' as const, url: '/own', client: 'a' })),
  ...Array.from({ length: 2 }, () => ({ method: 'GET' as const, url: '/own', client: 'b' })),
  ...Array.from({ length: 2 }, () => ({ method: 'GET' as const, url: '/async-key' })),
  ...Array.from({ length: 4 }, () => ({ method: 'GET' as const, url: '/free' })),
  { method: 'HEAD', url: '/own', client: 'c' },
];

async function answers(app: FastifyInstance) {
  const out: unknown[] = [];
  for (const r of requests) {
    const res = await app.inject({
      method: r.method,
      url: r.url,
      ...(r.client ? { headers: { 'x-client': r.client } } : {}),
    });
    const { date: _date, ...headers } = res.headers;
    out.push({ request: r, status: res.statusCode, headers, body: res.body });
  }
  return out;
}

describe('rate limit hook', () => {
  afterAll(async () => {
    for (const store of stores) await store.stop();
  });

  it('answers exactly what @fastify/rate-limit answers with the same store and settings', async () => {
    const expected = await answers(await withPlugin());
    const actual = await answers(await withOwnHook());
    expect(actual).toEqual(expected);
    // and the sequence did reach the limits, with the plugin's headers
    const statuses = actual.map((a) => (a as { status: number }).status);
    expect(statuses.slice(0, 6)).toEqual([200, 200, 200, 429, 429, 429]);
    const refused = actual[3] as { headers: Record<string, string>; body: string };
    expect(refused.headers).toMatchObject({
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '0',
      'retry-after': '60',
    });
    expect(JSON.parse(refused.body)).toEqual({
      code: 'FST_RATE_LIMITED',
      message: 'Too many requests; retry after 1 minute.',
    });
  });

  it('refuses a route configuration it does not implement instead of ignoring it', () => {
    const store = createRateLimitStores();
    stores.push(store);
    const app = Fastify();
    registerRateLimit(app, settings(store));
    expect(() =>
      app.get('/banned', { config: { rateLimit: { max: 1, timeWindow: 1000, ban: 2 } } }, () => ({})),
    ).toThrow(/"ban" is not supported/);
  });
});

describe('client key', () => {
  const addresses = [
    '203.0.113.7',
    '2001:db8:85a3::8a2e:370:7334',
    '2001:DB8:85A3:0:1::9',
    '::ffff:203.0.113.7',
    '::1',
    'fe80::1%eth0',
    'Not-An-Address',
    '',
  ];

  it('is normalizeIP’s key for every address, asked once or again, also after being pushed out', () => {
    const key = createClientKey(2);
    for (let round = 0; round < 3; round++) {
      for (const ip of addresses) expect(key(ip), ip).toBe(normalizeIP(ip));
    }
  });

  it('puts an IPv6 /64 under one key and an IPv4-mapped address under its IPv4 one', () => {
    const key = createClientKey();
    expect(key('2001:db8:85a3:0:1::9')).toBe(key('2001:db8:85a3:0:ffff::1'));
    expect(key('2001:db8:85a3:1::9')).not.toBe(key('2001:db8:85a3:0::9'));
    expect(key('::ffff:203.0.113.7')).toBe(key('203.0.113.7'));
  });
});
