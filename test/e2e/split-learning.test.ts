import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERNAL_SCOPE } from '../../src/modules/identity/index.js';
import { learningHttpClient } from '../../src/modules/learning/index.js';
import { type ComposedModules, composeModules } from '../../src/modules/registry.js';
import { clientCredentialsTokens, createInternalClient } from '../../src/platform/http/internal-client.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { registerServiceClient, startSecondService } from '../helpers/split.js';

// commerce and learning in two apps on one PostgreSQL database, as two services would run: the
// commerce app has no learning module and asks the learning app over HTTP (internal routes, a
// client_credentials token from identity, which runs beside learning).
const databaseUrl = process.env.DATABASE_URL;
const split = databaseUrl ? describe : describe.skip;

let learningApp: TestApp;
let commerceApp: TestApp;
let learningUrl = '';
let clientId = '';
let clientSecret = '';

async function call(
  base: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const listen = async (t: TestApp) => {
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
};

async function login(email: string, password: string): Promise<string> {
  const res = await call(learningUrl, 'POST', '/api/v1/auth/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return res.json.accessToken as string;
}

split('commerce and learning in two apps', () => {
  let commerceUrl = '';

  beforeAll(async () => {
    let here: ComposedModules | undefined;
    learningApp = await buildTestApp(
      (platform) => {
        here = composeModules(platform, ['identity', 'catalog', 'learning']);
        return here.modules;
      },
      { keys: () => here?.keys ?? new URL('http://127.0.0.1/none') },
    );
    ({ clientId, clientSecret } = await registerServiceClient(here));
    learningUrl = await listen(learningApp);
    commerceApp = await startSecondService(
      learningApp,
      ['catalog', 'commerce'],
      { IDENTITY_URL: learningUrl, LEARNING_URL: learningUrl },
      { clientId, clientSecret },
    );
    commerceUrl = await listen(commerceApp);
  }, 180_000);

  afterAll(async () => {
    // the commerce app only closes its pool; the learning app's stop drops the database
    await commerceApp.stop();
    await learningApp.stop();
  }, 60_000);

  async function publishedCourse(instructor: string, admin: string, title: string) {
    const created = await call(learningUrl, 'POST', '/api/v1/courses', {
      token: instructor,
      body: { title, price: { amount: 9900, currency: 'CNY' }, level: 'beginner', language: 'en' },
    });
    expect(created.status).toBe(201);
    const courseId = String(created.json.id);
    const chapter = await call(learningUrl, 'POST', `/api/v1/courses/${courseId}/chapters`, {
      token: instructor,
      body: { title: 'One' },
    });
    const lesson = await call(learningUrl, 'POST', `/api/v1/chapters/${String(chapter.json.id)}/lessons`, {
      token: instructor,
      body: { title: 'First', kind: 'article', body: 'Text', freePreview: false, durationSeconds: 100 },
    });
    expect(lesson.status).toBe(201);
    expect(
      (await call(learningUrl, 'POST', `/api/v1/courses/${courseId}/submit`, { token: instructor })).status,
    ).toBe(200);
    expect(
      (await call(learningUrl, 'POST', `/api/v1/courses/${courseId}/approve`, { token: admin })).status,
    ).toBe(200);
    return { courseId, lessonId: String(lesson.json.id) };
  }

  it('commerce refuses to sell a course learning granted, asking learning over HTTP; consumedShare and canOpen answer over HTTP', async () => {
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    const instructor = await login('instructor1@demo.lectern.dev', 'maple-compass-3958');
    const learner = await login('learner@demo.lectern.dev', 'willow-quartz-2736');
    const me = await call(learningUrl, 'GET', '/api/v1/me', { token: learner });
    const learnerId = String(me.json.id);

    const granted = await publishedCourse(instructor, admin, 'Granted by learning');
    const other = await publishedCourse(instructor, admin, 'Still for sale');
    const grant = await call(learningUrl, 'POST', '/api/v1/admin/entitlements', {
      token: admin,
      body: { userId: learnerId, courseId: granted.courseId, reason: 'scholarship' },
    });
    expect(grant.status, JSON.stringify(grant.json)).toBeLessThan(300);

    const refused = await call(commerceUrl, 'POST', '/api/v1/orders', {
      token: learner,
      body: { courseIds: [granted.courseId] },
    });
    expect(refused.status, JSON.stringify(refused.json)).toBe(409);
    expect(refused.json.code).toBe('commerce.already-owned');
    // the same commerce app sells a course learning did not grant
    const sold = await call(commerceUrl, 'POST', '/api/v1/orders', {
      token: learner,
      body: { courseIds: [other.courseId] },
    });
    expect(sold.status, JSON.stringify(sold.json)).toBe(201);

    // progress recorded by the learning app, read by a client in another process
    const progress = await call(learningUrl, 'PUT', `/api/v1/lessons/${granted.lessonId}/progress`, {
      token: learner,
      body: { position: 50 },
    });
    expect(progress.status, JSON.stringify(progress.json)).toBe(200);
    const remote = learningHttpClient(
      createInternalClient({
        baseUrl: learningUrl,
        tokens: clientCredentialsTokens({
          tokenUrl: `${learningUrl}/oauth/token`,
          clientId,
          clientSecret,
          scope: INTERNAL_SCOPE,
          timeoutMs: 5000,
        }),
        timeoutMs: 5000,
        retries: 1,
      }),
    );
    const share = await remote.consumedShare(learnerId, granted.courseId);
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(1);
    expect(await remote.consumedShare(learnerId, other.courseId)).toBe(0);
    expect(await remote.ownedCourseIds(learnerId, [granted.courseId, other.courseId, 'not-a-uuid'])).toEqual([
      granted.courseId,
    ]);
    expect(await remote.ownedCourseIds(learnerId, [])).toEqual([]);
    // canOpen, which the catalog's paid-lesson reads ask, over HTTP too
    expect(await remote.canOpen(learnerId, granted.courseId)).toBe(true);
    expect(await remote.canOpen(learnerId, other.courseId)).toBe(false);
    expect(await remote.canOpen(learnerId, 'not-a-uuid')).toBe(false);
    expect(await remote.canOpen('not-a-uuid', granted.courseId)).toBe(false);

    // the commerce app's catalog has no learning beside it: it asks the learning app, so the
    // granted paid lesson's text opens there for the learner, and the other course's does not
    const opened = await call(commerceUrl, 'GET', `/api/v1/lessons/${granted.lessonId}`, { token: learner });
    expect(opened.status, JSON.stringify(opened.json)).toBe(200);
    expect(opened.json.body).toBe('Text');
    const closed = await call(commerceUrl, 'GET', `/api/v1/lessons/${other.lessonId}`, { token: learner });
    expect(closed.status, JSON.stringify(closed.json)).toBe(200);
    expect(closed.json.body ?? null).toBeNull();

    // the internal routes are for service clients: the learner's own token is refused, and they
    // are not in the public API document
    const direct = await call(
      learningUrl,
      'GET',
      `/internal/v1/learning/users/${learnerId}/courses/${granted.courseId}/consumed-share`,
      { token: learner },
    );
    expect(direct.status).toBe(403);
    expect(direct.json.code).toBe('learning.internal-only');
    const canOpenDirect = await call(
      learningUrl,
      'GET',
      `/internal/v1/learning/users/${learnerId}/courses/${granted.courseId}/can-open`,
      { token: learner },
    );
    expect(canOpenDirect.status).toBe(403);
    expect(canOpenDirect.json.code).toBe('learning.internal-only');
    expect(
      (await call(learningUrl, 'GET', `/internal/v1/learning/users/${learnerId}/owned-courses?courseIds=x`))
        .status,
    ).toBe(401);
    const openapi = await call(learningUrl, 'GET', '/openapi.json');
    expect(Object.keys(openapi.json.paths as object).some((p) => p.startsWith('/internal'))).toBe(false);
  });
});
