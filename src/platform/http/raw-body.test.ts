import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFormBody, registerRawBody } from './raw-body.js';
import type { App } from './server.js';
import { createTestServer } from './test-support.js';

let app: App;
const seen: { body: unknown; raw: string | undefined }[] = [];

beforeAll(async () => {
  app = await createTestServer();
  registerRawBody(app);
  const record = (request: { body: unknown; rawBody?: Buffer }) => {
    seen.push({ body: request.body, raw: request.rawBody?.toString('utf8') });
    return { ok: true };
  };
  app.post('/notify', { config: { rawBody: true } }, (request) => record(request));
  app.post('/plain', (request) => record(request));
  app.post(
    '/notify-typed',
    {
      config: { rawBody: true },
      schema: { body: Type.Object({ out_trade_no: Type.String(), total_amount: Type.String() }) },
    },
    (request) => record(request),
  );
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

const last = () => seen.at(-1);

describe('raw body capture', () => {
  it('keeps the exact JSON bytes where re-serialising would change them', async () => {
    // key order, spacing, a unicode escape, a trailing newline and a number JSON.stringify rewrites
    const payload = '{ "z": 1,\n  "a": "caf\\u00e9 \\u6536\\u6b3e", "n": 1.50 }\n';
    const res = await app.inject({
      method: 'POST',
      url: '/notify',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(last()?.raw).toBe(payload);
    expect(JSON.stringify(last()?.body)).not.toBe(payload);
    expect(last()?.body).toEqual({ z: 1, a: 'café 收款', n: 1.5 });
  });

  it('keeps multi-byte UTF-8 bytes as sent', async () => {
    const payload = Buffer.from('{"subject":"课程 Ω ✓"}', 'utf8');
    await app.inject({
      method: 'POST',
      url: '/notify',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(last()?.raw).toBe(payload.toString('utf8'));
  });

  it('parses an Alipay-style form post into strings and keeps its bytes', async () => {
    const payload =
      'total_amount=12.30&out_trade_no=o-1&subject=%E8%AF%BE%E7%A8%8B+A&sign=ab%2Bcd%3D%3D&notify_time=2026-01-01+10%3A00%3A00';
    const res = await app.inject({
      method: 'POST',
      url: '/notify',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      payload,
    });
    expect(res.statusCode).toBe(200);
    expect(last()?.raw).toBe(payload);
    expect(last()?.body).toEqual({
      total_amount: '12.30',
      out_trade_no: 'o-1',
      subject: '课程 A',
      sign: 'ab+cd==',
      notify_time: '2026-01-01 10:00:00',
    });
  });

  it('a body schema validates the form fields; undeclared ones are dropped from body, not from rawBody', async () => {
    const payload = 'out_trade_no=o-2&total_amount=5.00&sign=xyz';
    const ok = await app.inject({
      method: 'POST',
      url: '/notify-typed',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload,
    });
    expect(ok.statusCode).toBe(200);
    expect(last()).toEqual({ body: { out_trade_no: 'o-2', total_amount: '5.00' }, raw: payload });
    const missing = await app.inject({
      method: 'POST',
      url: '/notify-typed',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'out_trade_no=o-2',
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'request.invalid' });
  });

  it('refuses a form with a repeated key with a 400 problem, before the handler runs', async () => {
    const before = seen.length;
    const res = await app.inject({
      method: 'POST',
      url: '/notify',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'total_amount=1.00&out_trade_no=o-1&total_amount=999.00',
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'request.duplicate-form-field' });
    expect(seen.length).toBe(before);
  });

  it('refuses a form in a charset other than UTF-8 with 415', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/notify',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=GBK' },
      payload: 'a=1',
    });
    expect(res.statusCode).toBe(415);
  });

  it('malformed JSON on an opted-in route is the usual 400', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/notify',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid-json' });
  });
});

describe('routes that do not opt in', () => {
  it('parse JSON as before and get no rawBody', async () => {
    const res = await app.inject({ method: 'POST', url: '/plain', payload: { a: 1 } });
    expect(res.statusCode).toBe(200);
    expect(last()).toEqual({ body: { a: 1 }, raw: undefined });
  });

  it('still refuse prototype poisoning, as Fastify does', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/plain',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__":{"admin":true}}',
    });
    expect(res.statusCode).toBe(400);
  });

  it('still answer 415 to form bodies', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/plain',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=1',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'request.unsupported-media-type' });
  });
});

describe('parseFormBody', () => {
  it('keeps empty values and treats __proto__ as data', () => {
    const body = parseFormBody('a=&__proto__=x&b=%26');
    expect(body).toEqual(
      Object.fromEntries([
        ['a', ''],
        ['__proto__', 'x'],
        ['b', '&'],
      ]),
    );
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
  });
});
