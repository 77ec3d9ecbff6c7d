import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatalogApi, catalogHttpClient } from '../../src/modules/catalog/index.js';
import { INTERNAL_SCOPE } from '../../src/modules/identity/index.js';
import { type ComposedModules, composeModules } from '../../src/modules/registry.js';
import { AppError } from '../../src/platform/errors.js';
import {
  type AccessTokenSource,
  clientCredentialsTokens,
  createInternalClient,
} from '../../src/platform/http/internal-client.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { registerServiceClient, startSecondService } from '../helpers/split.js';

// the catalog (with identity) in one app, commerce and learning in another on the same
// PostgreSQL database, as two services would run: the second app has no catalog and reads
// prices, lessons and course facts from the first over HTTP (CATALOG_URL, internal routes, a
// client_credentials token from identity).
const databaseUrl = process.env.DATABASE_URL;
const split = databaseUrl ? describe : describe.skip;

let catalogApp: TestApp;
let commerceApp: TestApp;
let catalogUrl = '';
let commerceUrl = '';
let catalogHere: CatalogApi;
let remote: CatalogApi;
let serviceTokens: AccessTokenSource;

async function call(
  base: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const listen = async (t: TestApp) => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
};

async function login(email: string, password: string): Promise<string> {
  const res = await call(catalogUrl, 'POST', '/api/v1/auth/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return res.json.accessToken as string;
}

split('catalog in one app, commerce and learning in another', () => {
  beforeAll(async () => {
    let here: ComposedModules | undefined;
    catalogApp = await buildTestApp(
      (platform) => {
        here = composeModules(platform, ['identity', 'catalog']);
        return here.modules;
      },
      { keys: () => here?.keys ?? new URL('http://127.0.0.1/none') },
    );
    catalogHere = (here?.modules.find((m) => m.name === 'catalog') as { api: CatalogApi } | undefined)
      ?.api as CatalogApi;
    const { clientId, clientSecret } = await registerServiceClient(here);
    catalogUrl = await listen(catalogApp);
    commerceApp = await startSecondService(
      catalogApp,
      ['learning', 'commerce'],
      { IDENTITY_URL: catalogUrl, CATALOG_URL: catalogUrl },
      { clientId, clientSecret },
    );
    commerceUrl = await listen(commerceApp);

    serviceTokens = clientCredentialsTokens({
      tokenUrl: `${catalogUrl}/oauth/token`,
      clientId,
      clientSecret,
      scope: INTERNAL_SCOPE,
      timeoutMs: 5000,
    });
    remote = catalogHttpClient(
      createInternalClient({ baseUrl: catalogUrl, tokens: serviceTokens, timeoutMs: 5000, retries: 1 }),
    );
  }, 180_000);

  afterAll(async () => {
    // the commerce app only closes its pool; the catalog app's stop drops the database
    await commerceApp.stop();
    await catalogApp.stop();
  }, 60_000);

  async function publishedCourse(instructor: string, admin: string, title: string, amount: number) {
    const created = await call(catalogUrl, 'POST', '/api/v1/courses', {
      token: instructor,
      body: { title, price: { amount, currency: 'CNY' }, level: 'beginner', language: 'en' },
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const courseId = String(created.json.id);
    const chapter = await call(catalogUrl, 'POST', `/api/v1/courses/${courseId}/chapters`, {
      token: instructor,
      body: { title: 'One' },
    });
    const lesson = await call(catalogUrl, 'POST', `/api/v1/chapters/${String(chapter.json.id)}/lessons`, {
      token: instructor,
      body: { title: 'First', kind: 'article', body: 'Text', freePreview: true, durationSeconds: 100 },
    });
    expect(lesson.status).toBe(201);
    expect(
      (await call(catalogUrl, 'POST', `/api/v1/courses/${courseId}/submit`, { token: instructor })).status,
    ).toBe(200);
    expect(
      (await call(catalogUrl, 'POST', `/api/v1/courses/${courseId}/approve`, { token: admin })).status,
    ).toBe(200);
    return { courseId, lessonId: String(lesson.json.id) };
  }

  it('commerce prices an order from the remote catalog, follows a price change, and 404s an unknown course', async () => {
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    const instructor = await login('instructor1@demo.lectern.dev', 'maple-compass-3958');
    const learner = await login('learner@demo.lectern.dev', 'willow-quartz-2736');
    const { courseId } = await publishedCourse(instructor, admin, 'Priced elsewhere', 12_345);

    const order = await call(commerceUrl, 'POST', '/api/v1/orders', {
      token: learner,
      body: { courseIds: [courseId] },
    });
    expect(order.status, JSON.stringify(order.json)).toBe(201);
    expect(order.json.total).toEqual({ amount: 12_345, currency: 'CNY' });
    const lines = order.json.lines as { courseId: string; title: string; listPrice: unknown }[];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      courseId,
      title: 'Priced elsewhere',
      listPrice: { amount: 12_345, currency: 'CNY' },
    });

    // the commerce app keeps no copy: the next order sees the catalog's new price at once
    const repriced = await call(catalogUrl, 'PATCH', `/api/v1/courses/${courseId}`, {
      token: instructor,
      body: { price: { amount: 8_800, currency: 'CNY' } },
    });
    expect(repriced.status, JSON.stringify(repriced.json)).toBe(200);
    const cancelled = await call(commerceUrl, 'POST', `/api/v1/orders/${String(order.json.id)}/cancel`, {
      token: learner,
      body: {},
    });
    expect(cancelled.status, JSON.stringify(cancelled.json)).toBe(200);
    const second = await call(commerceUrl, 'POST', '/api/v1/orders', {
      token: learner,
      body: { courseIds: [courseId] },
    });
    expect(second.status, JSON.stringify(second.json)).toBe(201);
    expect(second.json.total).toEqual({ amount: 8_800, currency: 'CNY' });

    const unknown = randomUUID();
    const missing = await call(commerceUrl, 'POST', '/api/v1/orders', {
      token: learner,
      body: { courseIds: [unknown] },
    });
    expect(missing.status, JSON.stringify(missing.json)).toBe(404);
    expect(missing.type).toContain('application/problem+json');
    expect(missing.json.code).toBe('commerce.course-not-found');
  });

  it('the HTTP client answers what the in-process API answers, for every method', async () => {
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    const instructor = await login('instructor1@demo.lectern.dev', 'maple-compass-3958');
    const { courseId, lessonId } = await publishedCourse(instructor, admin, 'Asked over HTTP', 4_200);

    expect(await remote.getCourseForSale(courseId)).toEqual(await catalogHere.getCourseForSale(courseId));
    expect((await remote.getCourseForSale(courseId))?.onSale).toBe(true);
    expect(await remote.getCoursePrice(courseId)).toEqual({ amount: 4_200, currency: 'CNY' });
    expect(await remote.getLesson(lessonId)).toEqual(await catalogHere.getLesson(lessonId));
    expect((await remote.getLesson(lessonId))?.courseId).toBe(courseId);
    expect(await remote.lessonsOfCourse(courseId)).toEqual(await catalogHere.lessonsOfCourse(courseId));
    expect((await remote.lessonsOfCourse(courseId)).map((l) => l.id)).toEqual([lessonId]);
    // newest first, as in-process; a huge limit is clamped to 100 by both
    expect(await remote.demoCourseIds(1e12)).toEqual(await catalogHere.demoCourseIds(1e12));
    expect((await remote.demoCourseIds(1))[0]).toBe(courseId);
    expect(await remote.demoCourseIds(Number.NaN)).toHaveLength(1);

    // nothing: unknown ids, malformed ids (no request), an unknown course's lessons
    expect(await remote.getCourseForSale(randomUUID())).toBeUndefined();
    expect(await remote.getCoursePrice(randomUUID())).toBeUndefined();
    expect(await remote.getLesson(randomUUID())).toBeUndefined();
    expect(await remote.lessonsOfCourse(randomUUID())).toEqual([]);
    expect(await remote.getCourseForSale('not-a-uuid')).toBeUndefined();
    expect(await remote.getLesson('x\u0000y')).toBeUndefined();
    expect(await remote.lessonsOfCourse('../../oauth/token')).toEqual([]);
    // an unknown file is the catalog's own not-found error, in-process and over HTTP
    const local = await catalogHere.signAssetUrl(randomUUID()).catch((err: unknown) => err);
    const over = await remote.signAssetUrl(randomUUID(), 1e9).catch((err: unknown) => err);
    for (const err of [local, over]) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('catalog.asset-not-found');
      expect((err as AppError).kind).toBe('not_found');
    }
  });

  it('the internal routes refuse bad input with problem+json, and anyone but an internal client', async () => {
    const token = await serviceTokens.token();
    const course = await catalogHere.demoCourseIds(1);
    const badInputs = [
      '/internal/v1/catalog/courses/not-a-uuid/for-sale',
      '/internal/v1/catalog/courses/%00/price',
      '/internal/v1/catalog/courses/%ED%A0%80/lessons',
      '/internal/v1/catalog/demo-course-ids?limit=1000000',
      '/internal/v1/catalog/demo-course-ids?limit=1e309',
      '/internal/v1/catalog/demo-course-ids?limit=-1e309',
      '/internal/v1/catalog/demo-course-ids?limit=0',
      '/internal/v1/catalog/demo-course-ids?limit=-5',
      '/internal/v1/catalog/demo-course-ids?limit=%00',
      '/internal/v1/catalog/demo-course-ids',
      `/internal/v1/catalog/assets/${randomUUID()}/signed-url?ttlSeconds=99999999999999999999`,
      `/internal/v1/catalog/assets/${randomUUID()}/signed-url?ttlSeconds=0`,
      `/internal/v1/catalog/assets/${randomUUID()}/signed-url?ttlSeconds=1e309`,
    ];
    for (const url of badInputs) {
      const res = await call(catalogUrl, 'GET', url, { token });
      expect(res.status, `${url}: ${JSON.stringify(res.json)}`).toBe(400);
      expect(res.type, url).toContain('application/problem+json');
    }
    // an id longer than any uuid stops at the router, still as problem+json
    const tooLong = await call(catalogUrl, 'GET', `/internal/v1/catalog/lessons/${'a'.repeat(300)}`, {
      token,
    });
    expect(tooLong.status).toBe(414);
    expect(tooLong.type).toContain('application/problem+json');
    // the same route with good input answers, so the 400s above are the input's
    expect(
      (await call(catalogUrl, 'GET', '/internal/v1/catalog/demo-course-ids?limit=100', { token })).json,
    ).toEqual({ courseIds: await catalogHere.demoCourseIds(100) });
    const unknown = await call(catalogUrl, 'GET', `/internal/v1/catalog/courses/${randomUUID()}/for-sale`, {
      token,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('catalog.course-not-found');

    // a learner's own token is refused, no token is 401, and the routes are not in the public document
    const learner = await login('learner@demo.lectern.dev', 'willow-quartz-2736');
    const forSale = `/internal/v1/catalog/courses/${course[0] ?? randomUUID()}/for-sale`;
    const asLearner = await call(catalogUrl, 'GET', forSale, { token: learner });
    expect(asLearner.status).toBe(403);
    expect(asLearner.json.code).toBe('catalog.internal-only');
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    expect((await call(catalogUrl, 'GET', forSale, { token: admin })).json.code).toBe(
      'catalog.internal-only',
    );
    expect((await call(catalogUrl, 'GET', forSale)).status).toBe(401);
    expect((await call(catalogUrl, 'GET', forSale, { token })).status).toBe(200);
    const openapi = await call(catalogUrl, 'GET', '/openapi.json');
    expect(Object.keys(openapi.json.paths as object).some((p) => p.startsWith('/internal'))).toBe(false);
  });
});
