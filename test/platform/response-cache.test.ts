import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Cache, createCache } from '../../src/platform/cache/cache.js';
import { lazyResponseCache, type ResponseCache } from '../../src/platform/http/response-cache.js';
import type { LecternModule } from '../../src/platform/module.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

// What the probe routes serve; shared by both instances, like a database would be.
let items = ['a', 'b'];

interface Probe {
  module: LecternModule;
  builds: () => number;
  /** Builds of /rc/pages (answers kept from their second ask). */
  pageBuilds: () => number;
  /** Answers of /rc/kept sent at once by sendKept. */
  keptAnswers: () => number;
  /** Failures of the cache itself that a lazily made cache reported. */
  cacheFailures: () => number;
}

/** GET /rc/items through the response cache, /rc/plain the same answer without it. */
function probeModule(cache: Cache): Probe {
  let builds = 0;
  let pageBuilds = 0;
  let keptAnswers = 0;
  let cacheFailures = 0;
  let responses: ResponseCache | undefined;
  const Answer = Type.Object({ items: Type.Array(Type.String()) });
  return {
    builds: () => builds,
    pageBuilds: () => pageBuilds,
    keptAnswers: () => keptAnswers,
    cacheFailures: () => cacheFailures,
    module: {
      name: 'rcprobe',
      migrations: {},
      routes: async (app) => {
        // as the modules make it and answer through it
        const lazy = lazyResponseCache(cache, () => {
          cacheFailures += 1;
        });
        const rc = await lazy.get();
        responses = rc;
        const value = () => ({ items, internal: 'never on the wire' });
        const itemsAnswer = (url: string) => ({
          scope: 'rcprobe',
          key: url,
          ttlSeconds: 60,
          build: () => {
            builds += 1;
            return Promise.resolve(value());
          },
        });
        app.get('/rc/items', { schema: { response: { 200: Answer } } }, async (request, reply) => {
          await rc.send(request, reply, itemsAnswer(request.url));
        });
        // a page after a cursor: kept from its second ask
        app.get('/rc/pages', { schema: { response: { 200: Answer } } }, async (request, reply) => {
          await rc.send(request, reply, {
            scope: 'rcprobe',
            key: request.url,
            ttlSeconds: 60,
            keepFromSecondAsk: true,
            build: () => {
              pageBuilds += 1;
              return Promise.resolve(value());
            },
          });
        });
        // a warm read answered at once from this process's copy (undefined), else through send
        app.get('/rc/kept', { schema: { response: { 200: Answer } } }, (request, reply) => {
          const later = lazy.respond(request, reply, itemsAnswer(request.url));
          if (!later) keptAnswers += 1;
          return later?.then(() => undefined);
        });
        app.get('/rc/plain', { schema: { response: { 200: Answer } } }, () => value());
        // an answer whose JSON text is built elsewhere (a database): kept as it is, not serialised
        app.get('/rc/text', { schema: { response: { 200: Answer } } }, (request, reply) =>
          lazy
            .respond(request, reply, {
              scope: 'rcprobe',
              key: request.url,
              ttlSeconds: 60,
              build: () => Promise.resolve(`{"items":${JSON.stringify(items)},"extra":"as built"}`),
              serialized: true,
            })
            ?.then(() => undefined),
        );
        app.post('/rc/items', async (_request, reply) => {
          items = [...items, `i${items.length}`];
          await rc.invalidate('rcprobe');
          return reply.code(204).send();
        });
      },
      close: async () => {
        await responses?.close();
      },
    },
  };
}

const volatile = new Set(['date', 'x-request-id', 'etag', 'x-ratelimit-remaining']);
const stable = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !volatile.has(name)));

describe('response cache, one instance', () => {
  let t: TestApp;
  let probe: Probe;
  beforeAll(async () => {
    t = await buildTestApp((platform) => {
      probe = probeModule(platform.cache);
      return [probe.module];
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('answers the bytes and headers of a normal answer, built once, with a strong ETag', async () => {
    const first = await t.app.inject({ url: '/api/v1/rc/items' });
    const again = await t.app.inject({ url: '/api/v1/rc/items' });
    const plain = await t.app.inject({ url: '/api/v1/rc/plain' });
    expect(probe.builds()).toBe(1);
    expect(first.statusCode).toBe(200);
    expect(again.body).toBe(plain.body);
    expect(first.body).toBe(plain.body);
    expect(stable(again.headers)).toEqual(stable(plain.headers));
    expect(again.headers.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(again.headers.etag).toBe(first.headers.etag);
  });

  it('keeps an answer built as JSON text as it is (serialized), twice the same bytes', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await t.app.inject({ url: '/api/v1/rc/text' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe(`{"items":${JSON.stringify(items)},"extra":"as built"}`);
    }
  });

  it('answers JSON text built without the cache when the cache fails, and reports the failure', async () => {
    const failing = vi.spyOn(t.platform.cache, 'get').mockRejectedValue(new Error('cache down'));
    try {
      const res = await t.app.inject({ url: `/api/v1/rc/text?fresh=${randomUUID()}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.body).toBe(`{"items":${JSON.stringify(items)},"extra":"as built"}`);
      expect(probe.cacheFailures()).toBe(1);
    } finally {
      failing.mockRestore();
    }
  });

  it('answers 304 to If-None-Match naming the current ETag, 200 otherwise', async () => {
    const { etag } = (await t.app.inject({ url: '/api/v1/rc/items' })).headers;
    const same = await t.app.inject({ url: '/api/v1/rc/items', headers: { 'if-none-match': String(etag) } });
    expect(same.statusCode).toBe(304);
    expect(same.body).toBe('');
    expect(same.headers.etag).toBe(etag);
    const other = await t.app.inject({ url: '/api/v1/rc/items', headers: { 'if-none-match': '"nope"' } });
    expect(other.statusCode).toBe(200);
  });

  it('builds again after an invalidation, and the old ETag no longer matches', async () => {
    const before = await t.app.inject({ url: '/api/v1/rc/items' });
    const builds = probe.builds();
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/rc/items' })).statusCode).toBe(204);
    const after = await t.app.inject({
      url: '/api/v1/rc/items',
      headers: { 'if-none-match': String(before.headers.etag) },
    });
    expect(after.statusCode).toBe(200);
    expect(probe.builds()).toBe(builds + 1);
    expect(after.json()).toEqual({ items });
  });

  it('keeps an answer marked keepFromSecondAsk only from its second ask, with the same bytes and ETag', async () => {
    const url = `/api/v1/rc/pages?cursor=${randomUUID()}`;
    const first = await t.app.inject({ url });
    expect(first.statusCode).toBe(200);
    expect(probe.pageBuilds()).toBe(1);
    // not kept: the second ask builds again, and keeps it
    const second = await t.app.inject({ url });
    expect(probe.pageBuilds()).toBe(2);
    for (let i = 0; i < 3; i++) {
      const again = await t.app.inject({ url, headers: { 'if-none-match': String(second.headers.etag) } });
      expect(again.statusCode).toBe(304);
    }
    expect(probe.pageBuilds()).toBe(2);
    const plain = await t.app.inject({ url: '/api/v1/rc/plain' });
    expect(first.body).toBe(plain.body);
    expect(second.body).toBe(plain.body);
    expect(first.headers.etag).toBe(second.headers.etag);
    expect(stable(first.headers)).toEqual(stable(second.headers));
    // an answer asked once is not written to the shared cache either; one asked twice is
    const once = `/api/v1/rc/pages?cursor=${randomUUID()}`;
    await t.app.inject({ url: once });
    const { cache } = t.platform;
    const generation = (await cache.get<number>('rc:gen:rcprobe')) ?? 0;
    expect(await cache.get(`rc:rcprobe:${generation}:${once}`)).toBeUndefined();
    expect(await cache.get(`rc:rcprobe:${generation}:${url}`)).toMatchObject({ etag: second.headers.etag });
  });

  it('answers a warm read at once from its copy, the same bytes, ETag and 304, until an invalidation', async () => {
    const url = '/api/v1/rc/kept';
    const first = await t.app.inject({ url });
    expect(first.statusCode).toBe(200);
    // the first ask had nothing kept: send built and kept it
    expect(probe.keptAnswers()).toBe(0);
    const builds = probe.builds();
    const again = await t.app.inject({ url });
    expect(probe.keptAnswers()).toBe(1);
    expect(probe.builds()).toBe(builds);
    expect(again.body).toBe(first.body);
    expect(again.headers.etag).toBe(first.headers.etag);
    expect(stable(again.headers)).toEqual(stable(first.headers));
    const notModified = await t.app.inject({ url, headers: { 'if-none-match': String(first.headers.etag) } });
    expect(notModified.statusCode).toBe(304);
    expect(probe.keptAnswers()).toBe(2);
    // a new generation: nothing kept for it, so send builds the new answer
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/rc/items' })).statusCode).toBe(204);
    const after = await t.app.inject({ url });
    expect(probe.keptAnswers()).toBe(2);
    expect(probe.builds()).toBe(builds + 1);
    expect(after.json()).toEqual({ items });
  });

  it('builds once for concurrent misses of one answer', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/rc/items' })).statusCode).toBe(204);
    const builds = probe.builds();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.app.inject({ url: '/api/v1/rc/items' })),
    );
    expect(answers.every((a) => a.statusCode === 200)).toBe(true);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
    expect(probe.builds()).toBe(builds + 1);
  });
});

// Two instances on one Redis: what one invalidates, the other stops serving.
describe.skipIf(!process.env.REDIS_URL)('response cache, two instances on Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let probeA: Probe;
  let probeB: Probe;
  beforeAll(async () => {
    const prefix = `lectern-test:${randomUUID()}:`;
    const shared = () => createCache({ redisUrl: process.env.REDIS_URL, keyPrefix: prefix });
    const cacheA = shared();
    const cacheB = shared();
    a = await buildTestApp(
      () => {
        probeA = probeModule(cacheA);
        return [probeA.module];
      },
      { platform: { cache: cacheA } },
    );
    b = await buildTestApp(
      () => {
        probeB = probeModule(cacheB);
        return [probeB.module];
      },
      { platform: { cache: cacheB } },
    );
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });

  it('answers a first ask from what another instance kept, without building', async () => {
    const url = `/api/v1/rc/pages?cursor=${randomUUID()}`;
    await b.app.inject({ url });
    const kept = await b.app.inject({ url });
    expect(probeB.pageBuilds()).toBe(2);
    const builtByA = probeA.pageBuilds();
    const fromA = await a.app.inject({ url });
    expect(fromA.body).toBe(kept.body);
    expect(fromA.headers.etag).toBe(kept.headers.etag);
    expect(probeA.pageBuilds()).toBe(builtByA);
  });

  it('shares built answers, and drops them everywhere on invalidation', async () => {
    const fromA = await a.app.inject({ url: '/api/v1/rc/items?two' });
    const fromB = await b.app.inject({ url: '/api/v1/rc/items?two' });
    expect(fromB.body).toBe(fromA.body);
    expect(probeA.builds() + probeB.builds()).toBe(1);

    expect((await a.app.inject({ method: 'POST', url: '/api/v1/rc/items' })).statusCode).toBe(204);
    // B hears of the new generation over pub/sub (or re-reads it within a second)
    await vi.waitFor(
      async () => {
        const now = await b.app.inject({ url: '/api/v1/rc/items?two' });
        expect(now.json()).toEqual({ items });
      },
      { timeout: 5000, interval: 20 },
    );
  });
});
