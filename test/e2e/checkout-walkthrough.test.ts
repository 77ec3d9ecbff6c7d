import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/platform/messaging/test-support.js';
import type { ComposedModules } from '../../src/modules/registry.js';
import { buildAllModulesApp } from '../helpers/all-modules.js';
import type { TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/ports.js';

/**
 * The README's "Buy a course with curl (sandbox)", step by step and in the same order, over real
 * HTTP against the whole app listening on a port, so the walkthrough cannot rot silently. The
 * sandbox posts its notification to this app's own notify URL, as it does under `npm start`.
 */

let t: TestApp;
let composed: ComposedModules;
let BASE: string;

/** What curl does: one HTTP request, the JSON answer (or the status alone). */
async function curl(
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

beforeAll(async () => {
  const port = await freePort();
  ({ t, composed } = await buildAllModulesApp({ env: { PORT: String(port) } }));
  await t.app.listen({ host: '127.0.0.1', port });
  BASE = `http://localhost:${port}/api/v1`;
  await composed.modules.find((m) => m.name === 'identity')?.seed?.();

  // a paid demo course with a lesson that is not a free preview, as the demo catalog has
  const login = async (email: string, password: string) =>
    (await curl('POST', '/auth/login', { body: { email, password } })).json.accessToken as string;
  const instructor = await login('instructor1@demo.lectern.dev', 'maple-compass-3958');
  const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
  const course = await curl('POST', '/courses', {
    token: instructor,
    body: {
      title: 'Walkthrough course',
      price: { amount: 9900, currency: 'CNY' },
      level: 'beginner',
      language: 'zh-CN',
    },
  });
  expect(course.status).toBe(201);
  const id = course.json.id as string;
  const chapter = await curl('POST', `/courses/${id}/chapters`, {
    token: instructor,
    body: { title: 'One' },
  });
  for (const [title, freePreview] of [
    ['Preview', true],
    ['Paid lesson', false],
  ] as const) {
    const lesson = await curl('POST', `/chapters/${chapter.json.id as string}/lessons`, {
      token: instructor,
      body: { title, kind: 'article', body: 'Body', freePreview },
    });
    expect(lesson.status).toBe(201);
  }
  expect((await curl('POST', `/courses/${id}/submit`, { token: instructor })).status).toBe(200);
  expect((await curl('POST', `/courses/${id}/approve`, { token: admin })).status).toBe(200);
  // the demo sales and the DEMO10 coupon, as `npm start` makes them (demo buyers, not the learner)
  expect(await composed.modules.find((m) => m.name === 'commerce')?.seed?.()).toBeDefined();
}, 120_000);
afterAll(async () => {
  await t.stop();
});

describe('README: Buy a course with curl (sandbox)', () => {
  it('signs in, orders, pays through the sandbox, and opens the lesson', async () => {
    // 1. sign in as the demo learner
    const login = await curl('POST', '/auth/login', {
      body: { email: 'learner@demo.lectern.dev', password: 'willow-quartz-2736' },
    });
    expect(login.status).toBe(200);
    const TOKEN = login.json.accessToken as string;

    // 2. a paid course and a lesson that is not a free preview: locked
    const list = await curl('GET', '/courses?free=false&currency=CNY&limit=5');
    const COURSE = (list.json.data as { id: string }[])[0]?.id ?? '';
    expect(COURSE).not.toBe('');
    const detail = await curl('GET', `/courses/${COURSE}`);
    const lessons = (detail.json.chapters as { lessons: { id: string; freePreview: boolean }[] }[]).flatMap(
      (c) => c.lessons,
    );
    const LESSON = lessons.find((l) => !l.freePreview)?.id ?? '';
    const locked = await curl('GET', `/lessons/${LESSON}/access`, { token: TOKEN });
    expect(locked.status).toBe(403);
    expect(locked.json.code).toBe('learning.purchase-required');

    // 3. order it with the demo coupon, with an Idempotency-Key
    const order = await curl('POST', '/orders', {
      token: TOKEN,
      headers: { 'idempotency-key': `order-${COURSE}` },
      body: { courseIds: [COURSE], couponCode: 'DEMO10' },
    });
    expect(order.status).toBe(201);
    expect(order.json).toMatchObject({ discount: { amount: 990 }, total: { amount: 8910, currency: 'CNY' } });
    const ORDER = order.json.id as string;

    // 4. start a sandbox payment
    const payment = await curl('POST', `/orders/${ORDER}/payments`, {
      token: TOKEN,
      body: { provider: 'sandbox' },
    });
    expect(payment.status).toBe(201);
    const PAYMENT = payment.json.id as string;

    // 5. pay as the sandbox payer: the signed notification reaches this app's notify URL
    const paid = await curl('POST', `/sandbox/pay/${PAYMENT}`, { body: { action: 'pay' } });
    expect(paid.status).toBe(200);
    expect(paid.json).toMatchObject({ paymentId: PAYMENT, delivered: [200], scheduled: false });

    // 6. the order is paid, and (once learning has the paid event) the lesson opens
    const after = await curl('GET', `/orders/${ORDER}`, { token: TOKEN });
    expect(after.json).toMatchObject({ status: 'paid', total: { amount: 8910, currency: 'CNY' } });
    let access = await curl('GET', `/lessons/${LESSON}/access`, { token: TOKEN });
    await waitFor(
      async () => {
        access = await curl('GET', `/lessons/${LESSON}/access`, { token: TOKEN });
        return access.status === 200;
      },
      'the lesson to open',
      15_000,
    );
    expect(access.json).toMatchObject({
      access: 'entitled',
      contentUrl: expect.stringContaining('/content?'),
    });
  });
});
