import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { InjectOptions } from 'fastify';
import { type Kysely, sql } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/platform/cache/cache.js';
import { loadConfig } from '../../src/platform/config.js';
import {
  type CursorShape,
  decodeCursor,
  encodeCursor,
  keyset,
  PageQuery,
  toPage,
} from '../../src/platform/http/pagination.js';
import { createHttpServer } from '../../src/platform/http/server.js';
import type { LecternModule } from '../../src/platform/module.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { createMetrics } from '../../src/platform/observability/metrics.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

type Tables = {
  'edge.notes': { id: string; title: string; body: string | null; rank: number; created_at: Date };
};

/** Routes that hand client text and cursors straight to PostgreSQL, as a careless module would. */
function edgeModule(db: Kysely<object>): LecternModule {
  const tdb = db.withTables<Tables>();
  return {
    name: 'edge',
    migrations: {
      '0001-notes': {
        async up(m) {
          await m.schema
            .withSchema('edge')
            .createTable('notes')
            .addColumn('id', 'uuid', (c) => c.primaryKey())
            .addColumn('title', 'text', (c) => c.notNull())
            .addColumn('body', 'text')
            .addColumn('rank', 'integer', (c) => c.notNull().defaultTo(0))
            .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
            .execute();
        },
      },
    },
    routes: (app) => {
      app.post(
        '/edge/notes',
        {
          schema: {
            body: Type.Object({
              title: Type.String({ maxLength: 200 }),
              body: Type.Optional(Type.String()),
              meta: Type.Optional(Type.Object({ lang: Type.String() })),
              extra: Type.Optional(Type.Object({}, { additionalProperties: true })),
            }),
          },
        },
        async (request, reply) => {
          const id = randomUUID();
          await tdb
            .insertInto('edge.notes')
            .values({
              id,
              title: request.body.title,
              body: request.body.body ?? null,
              rank: 0,
              created_at: new Date(),
            })
            .execute();
          return reply.status(201).send({ id });
        },
      );
      app.get(
        '/edge/notes',
        { schema: { querystring: Type.Object({ title: Type.Optional(Type.String()) }) } },
        async (request) => {
          let q = tdb.selectFrom('edge.notes').select('id');
          if (request.query.title !== undefined) q = q.where('title', '=', request.query.title);
          return { count: (await q.execute()).length };
        },
      );
      app.get('/edge/notes/:title', async (request) => {
        const { title } = request.params as { title: string };
        const row = await tdb
          .selectFrom('edge.notes')
          .select('id')
          .where('title', '=', title)
          .executeTakeFirst();
        return { found: row !== undefined };
      });
      const pages = (path: string, column: 'created_at' | 'rank', shape: CursorShape | undefined) =>
        app.get(path, { schema: { querystring: PageQuery } }, async (request) => {
          const { limit = 20, cursor } = request.query;
          const rows = await keyset(tdb.selectFrom('edge.notes').selectAll(), {
            columns: [column, 'id'],
            direction: 'desc',
            limit,
            cursor,
            shape,
          }).execute();
          return toPage(
            rows,
            limit,
            (r) => [column === 'rank' ? r.rank : r.created_at.toISOString(), r.id],
            (r) => ({ id: r.id }),
          );
        });
      pages('/edge/by-time', 'created_at', ['date-time', 'uuid']);
      pages('/edge/by-rank', 'rank', ['int32', 'uuid']);
      pages('/edge/by-time-undeclared', 'created_at', undefined);
    },
  };
}

let t: TestApp;
let db: Kysely<Tables>;

beforeAll(async () => {
  t = await buildTestApp((platform) => {
    db = platform.database.db.withTables<Tables>();
    return [edgeModule(platform.database.db)];
  });
});
afterAll(async () => {
  await t.stop();
});

const count = async () => (await db.selectFrom('edge.notes').select('id').execute()).length;

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
  code: string,
) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as { code: string; fields?: { field: string; message: string }[] };
  expect(body.code).toBe(code);
  return body;
}

const postJson = (raw: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/edge/notes',
    headers: { 'content-type': 'application/json' },
    payload: raw,
  });

describe('text that PostgreSQL cannot store is a 400 at the edge', () => {
  it('refuses a lone surrogate in a JSON body field, names it, and writes nothing', async () => {
    const before = await count();
    const res = await postJson('{"title":"x\\ud800y"}');
    const body = expectProblem(res, 400, 'request.invalid-text');
    expect(body.fields).toEqual([{ field: '/body/title', message: expect.stringContaining('Unicode') }]);
    expect(await count()).toBe(before);
  });

  it('refuses NUL in a body field, a nested field and an object key', async () => {
    const before = await count();
    expect(
      expectProblem(await postJson('{"title":"a\\u0000b"}'), 400, 'request.invalid-text').fields?.[0]?.field,
    ).toBe('/body/title');
    const nested = await postJson('{"title":"ok","extra":{"k":["fine","\\u0000"]}}');
    expect(expectProblem(nested, 400, 'request.invalid-text').fields?.[0]?.field).toBe('/body/extra/k/1');
    const key = await postJson('{"title":"ok","extra":{"a\\u0000":1}}');
    expect(expectProblem(key, 400, 'request.invalid-text').fields?.[0]?.field).toBe('/body/extra/a\u0000');
    expect(await count()).toBe(before);
  });

  it('refuses NUL and lone surrogates in query filters and path parameters', async () => {
    const query = await t.app.inject({ url: '/api/v1/edge/notes?title=%00' });
    expect(expectProblem(query, 400, 'request.invalid-text').fields).toEqual([
      { field: '/querystring/title', message: expect.any(String) },
    ]);
    // a query value that is not valid UTF-8 stays the literal text it was sent as: storable, never a 500
    expect((await t.app.inject({ url: '/api/v1/edge/notes?title=%ED%A0%80' })).json()).toEqual({ count: 0 });
    const param = await t.app.inject({ url: '/api/v1/edge/notes/a%00b' });
    expect(expectProblem(param, 400, 'request.invalid-text').fields?.[0]?.field).toBe('/params/title');
  });

  it('keeps tab, line breaks and astral characters in body text, but no control characters in a query', async () => {
    const res = await postJson(
      JSON.stringify({ title: 'emoji 😀 and 编程', body: 'line one\nline two\r\n\tindented' }),
    );
    expect(res.statusCode).toBe(201);
    expectProblem(await t.app.inject({ url: '/api/v1/edge/notes?title=a%09b' }), 400, 'request.invalid-text');
    expect((await t.app.inject({ url: '/api/v1/edge/notes?title=%F0%9F%98%80' })).json()).toEqual({
      count: 0,
    });
  });

  it('refuses control characters in headers the app reads', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/edge/notes',
      headers: { 'idempotency-key': 'key\u0001one' },
      payload: { title: 'x' },
    });
    expect(expectProblem(res, 400, 'request.invalid-text').fields?.[0]?.field).toBe(
      '/headers/idempotency-key',
    );
  });
});

describe('unknown body fields', () => {
  it('are a 400 naming the field, at any depth, unless the schema leaves the object open', async () => {
    const before = await count();
    const top = await t.app.inject({
      method: 'POST',
      url: '/api/v1/edge/notes',
      payload: { title: 'x', colour: 'red' },
    });
    expect(expectProblem(top, 400, 'request.invalid').fields).toEqual([
      { field: '/body/colour', message: 'is not a field of this request' },
    ]);
    const deep = await t.app.inject({
      method: 'POST',
      url: '/api/v1/edge/notes',
      payload: { title: 'x', meta: { lang: 'en', dialect: 'gb' } },
    });
    expect(expectProblem(deep, 400, 'request.invalid').fields?.[0]?.field).toBe('/body/meta/dialect');
    expect(await count()).toBe(before);
    const open = await t.app.inject({
      method: 'POST',
      url: '/api/v1/edge/notes',
      payload: { title: 'x', extra: { anything: [1, 2] } },
    });
    expect(open.statusCode).toBe(201);
  });
});

describe('bodies nobody parses, and URLs that are not valid percent-encoding', () => {
  it('answers 415 problem+json for text/plain and unknown media types on a JSON route', async () => {
    for (const type of ['text/plain', 'application/xml', 'text/plain; charset=utf-8']) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/edge/notes',
        headers: { 'content-type': type },
        payload: '{"title":"x"}',
      });
      expectProblem(res, 415, 'request.unsupported-media-type');
    }
  });

  it('answers 400 problem+json with a request id for %zz and encoded lone surrogates in a path', async () => {
    for (const url of [
      '/api/v1/edge/notes/%zz',
      '/api/v1/edge/notes/%ED%A0%80',
      '/api/v1/assets/%ED%A0%80',
    ]) {
      const res = await t.app.inject({ url });
      const body = expectProblem(res, 400, 'request.bad-url') as { requestId?: string };
      expect(body.requestId).toBe(res.headers['x-request-id']);
    }
  });
});

describe('forged keyset cursors', () => {
  const forged: [string, unknown[]][] = [
    ['a date of "0"', ['0', randomUUID()]],
    ['a date of "2026"', ['2026', randomUUID()]],
    ['the 31st of February', ['2026-02-31T00:00:00.000Z', randomUUID()]],
    ['a NUL in the id', ['2026-01-01T00:00:00.000Z', '\u0000']],
    ['a number for the date', [0, randomUUID()]],
  ];
  it.each(forged)('%s on a date-time cursor is a 400 request.bad-cursor', async (_name, values) => {
    const res = await t.app.inject({ url: `/api/v1/edge/by-time?cursor=${encodeCursor(values as never)}` });
    expectProblem(res, 400, 'request.bad-cursor');
  });

  it.each([[1.5], [2147483648], [-2147483649], ['7']])('%s on an int32 cursor is a 400', async (value) => {
    const res = await t.app.inject({
      url: `/api/v1/edge/by-rank?cursor=${encodeCursor([value, randomUUID()])}`,
    });
    expectProblem(res, 400, 'request.bad-cursor');
  });

  it('pages through with the cursors the API issued', async () => {
    for (let i = 0; i < 3; i++) await postJson(JSON.stringify({ title: `page ${i}` }));
    for (const list of ['by-time', 'by-rank']) {
      const first = (await t.app.inject({ url: `/api/v1/edge/${list}?limit=1` })).json<{
        nextCursor: string;
      }>();
      const second = await t.app.inject({ url: `/api/v1/edge/${list}?limit=1&cursor=${first.nextCursor}` });
      expect(second.statusCode).toBe(200);
    }
  });

  it('a value the database refuses on an undeclared cursor is still a 400, not a 500', async () => {
    const res = await t.app.inject({
      url: `/api/v1/edge/by-time-undeclared?cursor=${encodeCursor(['0', randomUUID()])}`,
    });
    expectProblem(res, 400, 'request.invalid-value');
  });

  it('decodeCursor checks each declared type', () => {
    const id = randomUUID();
    expect(decodeCursor(encodeCursor(['2026-03-01T10:00:00.123Z', id]), ['date-time', 'uuid'])).toEqual([
      '2026-03-01T10:00:00.123Z',
      id,
    ]);
    expect(decodeCursor(encodeCursor([-5, 'any text', 0.25]), ['int32', 'text', 'number'])).toEqual([
      -5,
      'any text',
      0.25,
    ]);
    expect(() => decodeCursor(encodeCursor(['2026-03-01T24:00:00Z', id]), ['date-time', 'uuid'])).toThrow();
    expect(() => decodeCursor(encodeCursor([id, id]), ['uuid'])).toThrow();
    expect(() => decodeCursor(encodeCursor([Number.MAX_VALUE]), ['int32'])).toThrow();
    expect(() => decodeCursor(encodeCursor(['x\ud800']), ['text'])).toThrow();
    expect(decodeCursor(encodeCursor(['9223372036854775807', 42]), ['int64', 'int64'])).toEqual([
      '9223372036854775807',
      42,
    ]);
    expect(() => decodeCursor(encodeCursor(['9223372036854775808']), ['int64'])).toThrow();
    expect(() => decodeCursor(encodeCursor(['12a']), ['int64'])).toThrow();
    expect(() => decodeCursor(encodeCursor([1.5]), ['int64'])).toThrow();
  });
});

describe('readiness and metrics', () => {
  async function server(env: Record<string, string> = {}) {
    const app = await createHttpServer({
      config: loadConfig({ LOG_LEVEL: 'silent', ...env }),
      logger: createLogger('silent'),
      metrics: createMetrics(),
      cache: createCache({}),
      readiness: {
        database: () => Promise.resolve(),
        cache: () => Promise.reject(new Error('connect ECONNREFUSED 10.1.2.3:6379 user=lectern')),
      },
    });
    await app.ready();
    return app;
  }

  it('/readyz says only ok or failed per dependency', async () => {
    const app = await server();
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', cache: 'failed' } });
    expect(res.body).not.toContain('10.1.2.3');
    await app.close();
  });

  it('/metrics without a token answers a direct local caller only', async () => {
    const app = await server();
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
    expectProblem(
      await app.inject({ url: '/metrics', remoteAddress: '203.0.113.9' }),
      404,
      'request.no-such-route',
    );
    const viaProxy = await app.inject({ url: '/metrics', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expectProblem(viaProxy, 404, 'request.no-such-route');
    await app.close();
  });

  /** GET /openapi.json (rate limited) as seen from `remoteAddress`, with this X-Forwarded-For. */
  const forwarded = (
    app: Awaited<ReturnType<typeof server>>,
    forwardedFor: string,
    remoteAddress = '10.0.0.2',
  ) => app.inject({ url: '/openapi.json', remoteAddress, headers: { 'x-forwarded-for': forwardedFor } });

  it('TRUST_PROXY=true believes the one proxy in front: what a client writes before its address gets it no new rate-limit count', async () => {
    const app = await server({ TRUST_PROXY: 'true', RATE_LIMIT_MAX: '2' });
    const statuses: number[] = [];
    // nginx appends the address it saw to what the client sent
    for (const made of ['1.1.1.1', '2.2.2.2', '3.3.3.3'])
      statuses.push((await forwarded(app, `${made}, 198.51.100.7`)).statusCode);
    expect(statuses).toEqual([200, 200, 429]);
    // another client behind the same proxy counts on its own
    expect((await forwarded(app, '198.51.100.8')).statusCode).toBe(200);
    await app.close();
  });

  it('TRUST_PROXY as proxy addresses believes the header from those only; off, nobody’s', async () => {
    const listed = await server({ TRUST_PROXY: '10.0.0.0/8, loopback', RATE_LIMIT_MAX: '2' });
    expect((await forwarded(listed, '198.51.100.7')).statusCode).toBe(200);
    expect((await forwarded(listed, '203.0.113.1, 198.51.100.7', '10.9.9.9')).statusCode).toBe(200);
    expect((await forwarded(listed, '198.51.100.7')).statusCode).toBe(429);
    expect((await forwarded(listed, '198.51.100.9')).statusCode).toBe(200);
    // a caller that is no listed proxy is counted by its own address, whatever it forwards
    const direct = ['198.51.100.20', '198.51.100.21', '198.51.100.22'].map((made) =>
      forwarded(listed, made, '203.0.113.50'),
    );
    expect((await Promise.all(direct)).map((r) => r.statusCode).sort()).toEqual([200, 200, 429]);
    await listed.close();

    const off = await server({ RATE_LIMIT_MAX: '1' });
    expect((await forwarded(off, '198.51.100.30')).statusCode).toBe(200);
    expect((await forwarded(off, '198.51.100.31')).statusCode).toBe(429);
    await off.close();
  });

  it('/metrics with METRICS_TOKEN asks every caller for it', async () => {
    const token = 'metrics-token-0123456789';
    const app = await server({ METRICS_TOKEN: token });
    expectProblem(await app.inject({ url: '/metrics' }), 401, 'metrics.token-required');
    const wrong = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-token-x' } });
    expectProblem(wrong, 401, 'metrics.token-required');
    const right = await app.inject({
      url: '/metrics',
      remoteAddress: '203.0.113.9',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(right.statusCode).toBe(200);
    expect(right.body).toContain('# HELP');
    await app.close();
  });
});

describe('every error a client can cause in Fastify itself is problem+json', () => {
  const cases: [string, InjectOptions, number][] = [
    [
      '__proto__ in a JSON body',
      {
        method: 'POST',
        url: '/api/v1/edge/notes',
        headers: { 'content-type': 'application/json' },
        payload: '{"title":"x","__proto__":{"admin":true}}',
      },
      400,
    ],
    [
      'constructor.prototype in a JSON body',
      {
        method: 'POST',
        url: '/api/v1/edge/notes',
        headers: { 'content-type': 'application/json' },
        payload: '{"title":"x","constructor":{"prototype":{"a":1}}}',
      },
      400,
    ],
    [
      'an empty JSON body',
      {
        method: 'POST',
        url: '/api/v1/edge/notes',
        headers: { 'content-type': 'application/json' },
        payload: '',
      },
      400,
    ],
    [
      'a gzip-encoded body',
      {
        method: 'POST',
        url: '/api/v1/edge/notes',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        payload: 'not gzip',
      },
      415,
    ],
    [
      'an unknown content coding',
      {
        method: 'POST',
        url: '/api/v1/edge/notes',
        headers: { 'content-type': 'application/json', 'content-encoding': 'br, identity' },
        payload: '{"title":"x"}',
      },
      415,
    ],
    [
      'no content type on a body',
      { method: 'POST', url: '/api/v1/edge/notes', headers: { 'content-type': '' }, payload: 'x' },
      415,
    ],
    [
      'a JSON body on a route that takes none',
      {
        method: 'DELETE',
        url: '/api/v1/edge/notes/x',
        headers: { 'content-type': 'application/json' },
        payload: '{"a":',
      },
      400,
    ],
    [
      'a body too large',
      { method: 'POST', url: '/api/v1/edge/notes', payload: { title: 'x'.repeat(2 * 1024 * 1024) } },
      413,
    ],
    ['a method the route does not take', { method: 'PUT', url: '/api/v1/edge/notes' }, 405],
    ['a path parameter over the length limit', { url: `/api/v1/edge/notes/${'a'.repeat(200)}` }, 414],
    [
      'a garbage bearer token',
      { url: '/api/v1/edge/notes', headers: { authorization: 'Bearer \u00ff\u00fe' } },
      200,
    ],
  ];
  it('an identity content coding is no coding at all', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/edge/notes',
      headers: { 'content-encoding': 'identity' },
      payload: { title: 'plain' },
    });
    expect(res.statusCode).toBe(201);
  });
  it.each(cases)('%s', async (_name, request, status) => {
    const res = await t.app.inject(request);
    expect(res.statusCode).toBe(status);
    if (status >= 400) {
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status, requestId: res.headers['x-request-id'] });
    }
    if (status >= 400 && request.headers?.['content-encoding'] !== undefined) {
      // refused in the edge hook, after it set every response's headers
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'none'/);
    }
  });
});

describe('requests Node cannot parse', () => {
  it('answers problem+json on the socket for oversized and malformed headers', async () => {
    const app = await createHttpServer({
      config: loadConfig({ LOG_LEVEL: 'silent' }),
      logger: createLogger('silent'),
      metrics: createMetrics(),
      cache: createCache({}),
      readiness: {},
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => {
          socket.write(request);
        });
        let answer = '';
        socket.on('data', (chunk: Buffer) => {
          answer += chunk.toString('utf8');
        });
        socket.on('close', () => {
          resolve(answer);
        });
        socket.on('error', reject);
      });
    try {
      const big = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect(big).toContain('application/problem+json');
      expect(big).toContain('"code":"request.headers-too-large"');
      const bad = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n');
      expect(bad).toMatch(/^HTTP\/1\.1 400 /);
      expect(bad).toContain('"code":"request.malformed-http"');
    } finally {
      await app.close();
    }
  });
});
