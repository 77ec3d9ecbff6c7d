import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRouteSchemas, lazySerializer, lazyValidator } from './lazy-compilers.js';
import { errorResponses, IdParams, NonEmptyText } from './schemas.js';
import type { App } from './server.js';
import { createTestServer } from './test-support.js';

let app: App;

beforeAll(async () => {
  app = await createTestServer();
  app.post(
    '/things/:id',
    {
      schema: {
        params: IdParams,
        querystring: Type.Object({ n: Type.Integer({ default: 7 }), tags: Type.Array(Type.String()) }),
        body: Type.Object({ name: NonEmptyText(5), count: Type.Integer({ minimum: 1 }) }),
        response: {
          200: Type.Object({ id: Type.String(), n: Type.Integer(), tags: Type.Array(Type.String()) }),
        },
      },
    },
    // the answer carries a field its schema does not name: the serializer must drop it
    (request) => ({ ...request.query, id: request.params.id, secret: 'never sent' }),
  );
  // a schema that cannot compile: compiled at start, ready() would throw
  app.post(
    '/broken',
    {
      schema: { body: Type.Object({ a: Type.Unsafe({ $ref: 'nowhere#' }) }), response: errorResponses(400) },
    },
    () => ({ ok: true }),
  );
  await app.ready();
});

afterAll(async () => {
  await app.close();
});

const id = '0f8b1b8e-3d5c-4a8f-9d1e-2b7c6a5d4e3f';

describe('route schemas compiled on first use', () => {
  it('does not compile a route schema at start (a broken one fails its first request, not ready())', async () => {
    const res = await app.inject({ method: 'POST', url: '/broken', payload: { a: 1 } });
    expect(res.statusCode).toBe(500);
    // our fault, said without the schema's details
    expect(res.json()).toMatchObject({ code: 'internal' });
    expect(res.body).not.toContain('nowhere');
  });

  it('validates, coerces and applies defaults as the eager compile did', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/things/${id}?tags=a`,
      payload: { name: 'pen', count: 2 },
    });
    expect(res.statusCode).toBe(200);
    // `n` from its default, `tags` coerced to an array, `secret` stripped by the serializer
    expect(res.body).toBe(`{"id":"${id}","n":7,"tags":["a"]}`);
  });

  it('answers an invalid body with the same problem as the eager compile did', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `/things/${id}?tags=a`,
      payload: { name: 'too long a name', count: 0, extra: true },
    });
    expect(res.statusCode).toBe(400);
    // captured from the eager compile (every error, closed body, same wording)
    expect(res.json()).toEqual(EAGER_400);
  });

  it('answers an invalid parameter before the body, as before', async () => {
    const res = await app.inject({ method: 'POST', url: '/things/nope?n=x&tags=a', payload: {} });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual(EAGER_PARAMS_400);
  });

  it('refuses at start a header schema naming a header in capitals (it would never match)', async () => {
    const other = await createTestServer();
    other.get('/h', { schema: { headers: Type.Object({ 'X-Thing': Type.String() }) } }, () => 'ok');
    await expect(other.ready()).rejects.toThrow(/lower case/);
    await other.close();
  });
});

describe('lazyValidator and lazySerializer', () => {
  it('compile once, on the first call, and pass through the compiled function', () => {
    let compiles = 0;
    const state: { errors: unknown } = { errors: null };
    const compiled = Object.assign(
      (data: unknown) => {
        compiled.errors = data === 1 ? null : [{ message: 'not one' }];
        return data === 1;
      },
      state,
      { schemaEnv: { root: true } },
    );
    const validate = lazyValidator(() => {
      compiles++;
      return compiled;
    });
    expect(compiles).toBe(0);
    expect(validate(2)).toBe(false);
    expect(validate.errors).toEqual([{ message: 'not one' }]);
    expect(validate(1)).toBe(true);
    expect(validate.schemaEnv).toEqual({ root: true });
    expect(compiles).toBe(1);

    let serializerCompiles = 0;
    const serialize = lazySerializer(() => {
      serializerCompiles++;
      return (data) => JSON.stringify(data);
    });
    expect(serializerCompiles).toBe(0);
    expect(serialize({ a: 1 }) + serialize(2)).toBe('{"a":1}2');
    expect(serializerCompiles).toBe(1);
  });
});

const invalid = {
  type: 'https://lectern.dev/problems/request.invalid',
  title: 'Bad Request',
  status: 400,
  detail: 'The request does not match the schema.',
  code: 'request.invalid',
  requestId: expect.any(String),
};
const EAGER_400 = {
  ...invalid,
  fields: [
    { field: '/body/extra', message: 'is not a field of this request' },
    { field: '/body/name', message: 'must NOT have more than 5 characters' },
    { field: '/body/count', message: 'must be >= 1' },
  ],
  instance: `/things/${id}`,
};
const EAGER_PARAMS_400 = {
  ...invalid,
  fields: [{ field: '/params/id', message: 'must match format "uuid"' }],
  instance: '/things/nope',
};

describe('compiling what is still pending', () => {
  it('compiles each waiting stand-in once, reports a broken one and goes on', async () => {
    const pending = new Set<() => unknown>();
    let calls = 0;
    const validate = lazyValidator(() => {
      calls++;
      return Object.assign(() => true, { errors: null });
    }, pending);
    lazySerializer(() => {
      throw new Error('broken schema');
    }, pending);
    const errors: unknown[] = [];
    expect(await compileRouteSchemas(pending, (err) => errors.push(err), 1)).toBe(1);
    expect(errors).toHaveLength(1);
    expect(pending.size).toBe(0);
    validate({});
    expect(calls).toBe(1);
  });
});
