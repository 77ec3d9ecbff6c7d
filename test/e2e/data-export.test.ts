import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODULE_NAMES } from '../../src/modules/registry.js';
import { waitFor } from '../../src/platform/messaging/test-support.js';
import { buildAllModulesApp } from '../helpers/all-modules.js';
import type { TestApp } from '../helpers/app.js';

/**
 * A copy of a learner's personal data on the whole app as `lectern serve` composes it: one
 * request, every module of the registry writes its part from the event, and the download is one
 * JSON document holding them all.
 */

let t: TestApp;
const LEARNER = { email: 'learner@demo.lectern.dev', password: 'willow-quartz-2736' };

beforeAll(async () => {
  const built = await buildAllModulesApp();
  t = built.t;
  for (const name of ['identity', 'catalog'])
    await built.composed.modules.find((m) => m.name === name)?.seed?.();
  // every module and the demo catalog (55 courses with their files): 15 s on a quiet machine, four
  // times that beside the rest of the suite on a busy one
}, 180_000);
afterAll(async () => {
  await t.stop();
});

describe('a copy of my personal data, every module', () => {
  it('is ready once each module has written its part, and downloads as one document', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: LEARNER });
    const auth = { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` };
    const userId = (await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: auth })).json<{
      id: string;
    }>().id;
    // something of the learner's in another module: a course on the wishlist
    const courses = await t.app.inject({ method: 'GET', url: '/api/v1/courses?limit=1', headers: auth });
    const courseId = courses.json<{ data: { id: string }[] }>().data[0]?.id ?? '';
    const saved = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/me/favourites/${courseId}`,
      headers: auth,
    });
    expect(saved.statusCode, saved.body).toBeLessThan(300);

    const asked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/me/data-exports',
      headers: auth,
      payload: { password: LEARNER.password },
    });
    expect(asked.statusCode, asked.body).toBe(202);
    const { id, parts } = asked.json<{ id: string; parts: { module: string }[] }>();
    expect(parts.map((p) => p.module)).toEqual([...MODULE_NAMES]);

    await waitFor(async () => {
      const state = await t.app.inject({
        method: 'GET',
        url: `/api/v1/me/data-exports/${id}`,
        headers: auth,
      });
      return state.json<{ status: string }>().status === 'ready';
    }, 'every part of the export');

    const download = await t.app.inject({
      method: 'GET',
      url: `/api/v1/me/data-exports/${id}/download`,
      headers: auth,
    });
    expect(download.statusCode).toBe(200);
    const doc = JSON.parse(download.body) as {
      userId: string;
      parts: Record<string, { module: string; data: Record<string, unknown> }>;
    };
    expect(Object.keys(doc.parts)).toEqual([...MODULE_NAMES]);
    for (const [name, part] of Object.entries(doc.parts)) expect(part.module).toBe(name);
    expect(doc.parts.identity?.data.account).toMatchObject({ id: userId, email: LEARNER.email });
    expect(doc.parts.catalog?.data.favourites).toEqual([expect.objectContaining({ courseId })]);
    // no secret anywhere: no password hash, no key named for a secret ("passwordChangedAt" is a date)
    expect(download.body).not.toMatch(/argon2|"(password|secret|(access|refresh)?token)(_?hash)?"\s*:/i);
  });
});
