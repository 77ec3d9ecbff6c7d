import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type ComposedModules, composeModules } from '../../src/modules/registry.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

// The modules as `lectern serve` composes them: identity's keys and deny-list guard the catalog.
let t: TestApp;
let composed: ComposedModules;

beforeAll(async () => {
  t = await buildTestApp(
    (platform) => {
      composed = composeModules(platform);
      return composed.modules;
    },
    { keys: () => composed.keys },
  );
  await composed.modules.find((m) => m.name === 'identity')?.seed?.();
});
afterAll(async () => {
  await t.stop();
});

async function login(email: string, password: string): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  expect(res.statusCode).toBe(200);
  return res.json<{ accessToken: string }>().accessToken;
}

describe('identity and catalog in one process', () => {
  it('a token identity issued opens catalog routes, and stops at once when the user is disabled', async () => {
    const learner = await login('learner@demo.lectern.dev', 'willow-quartz-2736');
    const bearer = { authorization: `Bearer ${learner}` };
    expect((await t.app.inject({ url: '/api/v1/me/favourites', headers: bearer })).statusCode).toBe(200);

    const me = (await t.app.inject({ url: '/api/v1/me', headers: bearer })).json<{ id: string }>();
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    const disabled = await t.app.inject({
      method: 'POST',
      url: `/api/v1/admin/users/${me.id}/disable`,
      headers: { authorization: `Bearer ${admin}` },
      payload: { reason: 'test' },
    });
    expect(disabled.statusCode).toBe(200);

    // the access token has minutes left, yet the catalog refuses it now
    const refused = await t.app.inject({ url: '/api/v1/me/favourites', headers: bearer });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toMatch(/problem\+json/);
  });

  it('catalog admin routes accept identity admins and refuse instructors', async () => {
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/categories',
      headers: { authorization: `Bearer ${admin}` },
      payload: { slug: 'e2e-category', name: 'E2E 分类' },
    });
    expect(created.statusCode).toBe(201);
    const instructor = await login('instructor1@demo.lectern.dev', 'maple-compass-3958');
    const refused = await t.app.inject({
      method: 'POST',
      url: '/api/v1/categories',
      headers: { authorization: `Bearer ${instructor}` },
      payload: { slug: 'e2e-other', name: 'x' },
    });
    expect(refused.statusCode).toBe(403);
  });

  it('an instructor’s new display name reaches the catalog’s instructor page through an event', async () => {
    const instructor = await login('instructor2@demo.lectern.dev', 'cedar-beacon-6184');
    const bearer = { authorization: `Bearer ${instructor}` };
    const course = await t.app.inject({
      method: 'POST',
      url: '/api/v1/courses',
      headers: bearer,
      payload: {
        title: '数据分析入门',
        price: { amount: 9900, currency: 'CNY' },
        level: 'beginner',
        language: 'zh-CN',
      },
    });
    expect(course.statusCode).toBe(201);
    const me = (await t.app.inject({ url: '/api/v1/me', headers: bearer })).json<{ id: string }>();
    const page = async () =>
      (await t.app.inject({ url: `/api/v1/instructors/${me.id}` })).json<{ displayName: string }>();
    expect((await page()).displayName).not.toBe('王老师 Ms Wang');

    const renamed = await t.app.inject({
      method: 'PATCH',
      url: '/api/v1/me',
      headers: bearer,
      payload: { displayName: '王老师 Ms Wang' },
    });
    expect(renamed.statusCode).toBe(200);
    // the relay publishes the outbox row and the catalog's subscriber applies it
    await vi.waitFor(
      async () => {
        expect((await page()).displayName).toBe('王老师 Ms Wang');
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  it('the instructor profile set in identity is the one the catalog shows', async () => {
    const instructor = await login('instructor1@demo.lectern.dev', 'maple-compass-3958');
    const bearer = { authorization: `Bearer ${instructor}` };
    const course = await t.app.inject({
      method: 'POST',
      url: '/api/v1/courses',
      headers: bearer,
      payload: {
        title: 'SQL 入门',
        price: { amount: 4900, currency: 'CNY' },
        level: 'beginner',
        language: 'zh-CN',
      },
    });
    expect(course.statusCode).toBe(201);
    const me = (await t.app.inject({ url: '/api/v1/me', headers: bearer })).json<{ id: string }>();

    // the catalog no longer writes profiles: identity's route is the only one
    const old = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/instructors/me',
      headers: bearer,
      payload: { displayName: 'x' },
    });
    expect([404, 405]).toContain(old.statusCode);
    const set = await t.app.inject({
      method: 'PUT',
      url: '/api/v1/me/instructor-profile',
      headers: bearer,
      payload: { headline: '十年教龄 DBA', bio: '从索引讲到执行计划。' },
    });
    expect(set.statusCode).toBe(200);

    type Page = { headline: string; bio: string };
    const page = async () => (await t.app.inject({ url: `/api/v1/instructors/${me.id}` })).json<Page>();
    const deadline = Date.now() + 10_000;
    // a slow poll: every request counts against the client's rate limit
    while ((await page()).headline !== '十年教龄 DBA' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(await page()).toMatchObject({ headline: '十年教龄 DBA', bio: '从索引讲到执行计划。' });
  });
});
