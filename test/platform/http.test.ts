import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule, type ProbeModule } from '../helpers/probe-module.js';

let t: TestApp;
let probe: ProbeModule;

beforeAll(async () => {
  t = await buildTestApp(
    (platform) => {
      probe = createProbeModule(platform.database.db);
      return [probe];
    },
    { env: { BODY_LIMIT_BYTES: '2048' } },
  );
});
afterAll(async () => {
  await t.stop();
});

function expectProblem(
  res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown },
  status: number,
  code: string,
) {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, code, type: expect.stringContaining(code) });
  expect(typeof body.title).toBe('string');
  expect(typeof body.requestId).toBe('string');
  return body;
}

describe('problem+json for every error class', () => {
  it('400 lists the offending fields and changes nothing', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/probe/items', payload: { name: 42 } });
    const body = expectProblem(res, 400, 'request.invalid');
    expect(body.fields).toEqual(expect.arrayContaining([expect.objectContaining({ field: '/body/id' })]));
    expect(probe.executions()).toBe(0);
  });

  it('400 for malformed JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/probe/items',
      headers: { 'content-type': 'application/json' },
      payload: '{"id":',
    });
    expectProblem(res, 400, 'request.invalid-json');
  });

  it('400 for a forged pagination cursor', async () => {
    const res = await t.app.inject({ url: '/api/v1/probe/items?cursor=bm90LWEtY3Vyc29y' });
    expectProblem(res, 400, 'request.bad-cursor');
  });

  it('401 without a token and 403 without the role', async () => {
    const anonymous = await t.app.inject({ url: '/api/v1/probe/admin' });
    expectProblem(anonymous, 401, 'auth.required');
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    const learner = await t.app.inject({
      url: '/api/v1/probe/admin',
      headers: { authorization: `Bearer ${await t.tokens.user(undefined, ['learner'])}` },
    });
    expectProblem(learner, 403, 'auth.role-required');
    const admin = await t.app.inject({
      url: '/api/v1/probe/admin',
      headers: { authorization: `Bearer ${await t.tokens.user(undefined, ['admin'])}` },
    });
    expect(admin.statusCode).toBe(200);
  });

  it('401 for a token signed by someone else', async () => {
    const { createTestTokens } = await import('../helpers/tokens.js');
    const stranger = await createTestTokens();
    const res = await t.app.inject({
      url: '/api/v1/probe/admin',
      headers: { authorization: `Bearer ${await stranger.user(undefined, ['admin'])}` },
    });
    expectProblem(res, 401, 'auth.invalid-token');
  });

  it('404 for an unknown route', async () => {
    expectProblem(await t.app.inject({ url: '/api/v1/nowhere' }), 404, 'request.no-such-route');
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/api/v1/probe/items' });
    expectProblem(res, 405, 'request.method-not-allowed');
    expect(String(res.headers.allow)).toContain('GET');
    expect(String(res.headers.allow)).toContain('POST');
  });

  it('409 from a service rule', async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/probe/items', payload: { id: 'dup', name: 'a' } });
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/probe/items',
      payload: { id: 'dup', name: 'b' },
    });
    // the rule's extension member survives the route's Problem response schema
    expect(expectProblem(res, 409, 'probe.duplicate').existingId).toBe('dup');
  });

  it('413 for a body over the limit', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/probe/items',
      payload: { id: 'big', name: 'x'.repeat(5000) },
    });
    expectProblem(res, 413, 'request.body-too-large');
  });

  it('415 for a content type no route accepts', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/probe/items',
      headers: { 'content-type': 'application/x-unknown' },
      payload: 'hello',
    });
    expectProblem(res, 415, 'request.unsupported-media-type');
  });

  it('500 hides the internals', async () => {
    const res = await t.app.inject({ url: '/api/v1/probe/boom' });
    const body = expectProblem(res, 500, 'internal');
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(JSON.stringify(body)).not.toContain('stack');
  });

  it('keeps a sane caller request id and echoes it', async () => {
    const res = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
    expect(res.headers['x-request-id']).toBe('abc-123');
    const evil = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'a b\nc' } });
    expect(evil.headers['x-request-id']).not.toBe('a b\nc');
  });
});

describe('429 rate limiting', () => {
  it('answers 429 problem+json with Retry-After once the window is used up', async () => {
    const limited = await buildTestApp(() => [], {
      env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' },
    });
    try {
      const codes: number[] = [];
      let last = await limited.app.inject({ url: '/healthz' });
      for (let i = 0; i < 5; i++) {
        last = await limited.app.inject({ url: '/openapi.json' });
        codes.push(last.statusCode);
      }
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      expectProblem(last, 429, 'request.rate-limited');
      expect(last.headers['retry-after']).toBeDefined();
    } finally {
      await limited.stop();
    }
  });
});

describe('platform endpoints', () => {
  it('/readyz checks database, cache and bus', async () => {
    const res = await t.app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: { database: 'ok', cache: 'ok', bus: 'ok' } });
  });

  it('/metrics speaks Prometheus and counts requests by route template', async () => {
    await t.app.inject({ url: '/api/v1/probe/items' });
    const res = await t.app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(
      'lectern_http_request_duration_seconds_count{method="GET",route="/api/v1/probe/items",status="200"}',
    );
  });

  it('/openapi.json is OpenAPI 3.1 with the module routes and /docs serves the UI', async () => {
    const doc = (await t.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/api/v1/probe/items');
    const docs = await t.app.inject({ url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).toContain('swagger');
  });

  it('sends security headers and answers CORS preflights', async () => {
    const res = await t.app.inject({ url: '/healthz' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/probe/items',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });
});
