import type { Static } from 'typebox';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { requirePrincipal } from './principal.js';
import { DateTime, errorResponses, IdParams, MoneySchema, NonEmptyText } from './schemas.js';
import type { App } from './server.js';
import { createTestServer } from './test-support.js';

const Thing = Type.Object({ id: Type.String(), name: Type.String(), price: MoneySchema, at: DateTime });
type Thing = Static<typeof Thing>;

let app: App;

beforeAll(async () => {
  app = await createTestServer();
  app.post(
    '/things/:id',
    {
      schema: {
        params: IdParams,
        body: Type.Object({ name: NonEmptyText(20), price: MoneySchema }),
        response: { 200: Thing, ...errorResponses(400, 401, 404) },
      },
    },
    (request, reply) => {
      // type level: the params and body are typed from the schemas…
      expectTypeOf(request.params.id).toEqualTypeOf<string>();
      expectTypeOf(request.body.price.amount).toEqualTypeOf<number>();
      // …and the 200 reply keeps its own type after the spread: a wrong shape does not compile
      expectTypeOf<
        NonNullable<Parameters<ReturnType<typeof reply.code<200>>['send']>[0]>
      >().toEqualTypeOf<Thing>();
      if (false as boolean) {
        // @ts-expect-error `name` must be a string in the 200 schema
        void reply.code(200).send({ id: 'x', name: 1, price: request.body.price, at: '' });
      }
      if (request.body.name === 'missing') {
        return reply.code(404).send({ type: 'x', title: 'Not Found', status: 404, code: 'thing.not-found' });
      }
      return reply.code(200).send({
        id: request.params.id,
        name: request.body.name,
        price: request.body.price,
        at: '2026-01-01T00:00:00.000Z',
      });
    },
  );
  app.get('/whoami', (request) => ({ subject: requirePrincipal(request).subject }));
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

const id = '0f8b1b8e-3d5c-4a8f-9d1e-2b7c6a5d4e3f';

describe('shared route schemas', () => {
  it('errorResponses lists each status as the shared Problem schema', () => {
    const responses = errorResponses(400, 409);
    expect(Object.keys(responses)).toEqual(['400', '409']);
    expect(responses[400]).toEqual({ $ref: 'Problem' });
    expectTypeOf(responses).toHaveProperty(409);
  });

  it('a route built with them answers 200 with the declared shape', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/things/${id}`,
      payload: { name: 'Lamp', price: { amount: 1999, currency: 'CNY' }, extra: 'dropped' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      id,
      name: 'Lamp',
      price: { amount: 1999, currency: 'CNY' },
      at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('refuses a bad id, blank text, a float or negative amount and a lower-case currency with 400', async () => {
    const bad = [
      { url: '/things/not-a-uuid', payload: { name: 'Lamp', price: { amount: 1, currency: 'CNY' } } },
      { url: `/things/${id}`, payload: { name: '   ', price: { amount: 1, currency: 'CNY' } } },
      { url: `/things/${id}`, payload: { name: '', price: { amount: 1, currency: 'CNY' } } },
      { url: `/things/${id}`, payload: { name: 'x'.repeat(21), price: { amount: 1, currency: 'CNY' } } },
      { url: `/things/${id}`, payload: { name: 'Lamp', price: { amount: 1.5, currency: 'CNY' } } },
      { url: `/things/${id}`, payload: { name: 'Lamp', price: { amount: -1, currency: 'CNY' } } },
      { url: `/things/${id}`, payload: { name: 'Lamp', price: { amount: 1, currency: 'cny' } } },
    ];
    for (const { url, payload } of bad) {
      const res = await app.inject({ method: 'POST', url, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('an error status listed by errorResponses is serialised as a problem', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/things/${id}`,
      payload: { name: 'missing', price: { amount: 1, currency: 'CNY' } },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 404, code: 'thing.not-found' });
  });

  it('the OpenAPI document shows the error responses as Problem references', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, { post?: { responses: Record<string, unknown> } }>;
    }>();
    const responses = doc.paths['/things/{id}']?.post?.responses ?? {};
    expect(Object.keys(responses).sort()).toEqual(['200', '400', '401', '404']);
    expect(JSON.stringify(responses['404'])).toContain('Problem');
  });
});

describe('requirePrincipal', () => {
  it('answers 401 problem+json when no guard established a caller', async () => {
    const res = await app.inject({ method: 'GET', url: '/whoami' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ status: 401, code: 'auth.required' });
  });
});
