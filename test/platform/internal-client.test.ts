import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import {
  clientCredentialsTokens,
  createInternalClient,
  type InternalClient,
} from '../../src/platform/http/internal-client.js';

// A real HTTP server on 127.0.0.1 that misbehaves on purpose, and counts what reached it.
let server: FastifyInstance;
let baseUrl: string;
const hits = new Map<string, number>();
const seenAuth: string[] = [];
let issued = 0;
let now = 1_000_000;
let switchDown = true;

const hit = (name: string) => {
  hits.set(name, (hits.get(name) ?? 0) + 1);
  return hits.get(name) ?? 0;
};
const problem = (status: number, code: string) => ({
  type: 'about:blank',
  title: 'Problem',
  status,
  detail: `detail of ${code}`,
  code,
});

beforeAll(async () => {
  server = Fastify({ forceCloseConnections: true });
  server.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  server.post('/oauth/token', (request, reply) => {
    const form = request.body as Record<string, string>;
    const basic = Buffer.from(`svc:${encodeURIComponent('s3cret')}`).toString('base64');
    if (request.headers.authorization !== `Basic ${basic}` || form.grant_type !== 'client_credentials') {
      return reply.status(401).send({ error: 'invalid_client' });
    }
    issued += 1;
    return { access_token: `token-${issued}`, token_type: 'Bearer', expires_in: 300, scope: form.scope };
  });
  server.addHook('onRequest', (request, _reply, done) => {
    if (request.url.startsWith('/svc/')) seenAuth.push(request.headers.authorization ?? '');
    done();
  });
  server.get('/svc/ok', () => ({ ok: true }));
  server.get('/svc/flaky-get', (_request, reply) =>
    hit('flaky-get') < 3 ? reply.status(503).send(problem(503, 'svc.down')) : { ok: true },
  );
  server.post('/svc/flaky-post', (_request, reply) => {
    hit('flaky-post');
    return reply.status(503).type('application/problem+json').send(problem(503, 'svc.down'));
  });
  server.get('/svc/slow', async () => {
    hit('slow');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return { late: true };
  });
  server.get('/svc/missing', (_request, reply) =>
    reply.status(404).type('application/problem+json').send(problem(404, 'svc.thing-not-found')),
  );
  server.get('/svc/conflict', (_request, reply) =>
    reply.status(409).type('application/problem+json').send(problem(409, 'svc.busy')),
  );
  server.get('/svc/always-down', (_request, reply) => {
    hit('always-down');
    return reply.status(503).type('application/problem+json').send(problem(503, 'svc.down'));
  });
  server.get('/svc/rejects-first-token', (request, reply) =>
    request.headers.authorization === 'Bearer token-1'
      ? reply.status(401).send(problem(401, 'auth.token-revoked'))
      : { ok: true },
  );
  server.get('/svc/switch', (_request, reply) => {
    hit('switch');
    return switchDown ? reply.status(503).send(problem(503, 'svc.down')) : { up: true };
  });
  server.post('/svc/switch', () => {
    hit('switch');
    return { up: true };
  });
  baseUrl = await server.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
});

const tokensFor = (secret = 's3cret') =>
  clientCredentialsTokens({
    tokenUrl: `${baseUrl}/oauth/token`,
    clientId: 'svc',
    clientSecret: secret,
    scope: 'internal',
    timeoutMs: 1000,
    refreshBeforeSeconds: 30,
    now: () => now,
  });

const clientWith = (tokens = tokensFor(), retries = 2): InternalClient =>
  createInternalClient({ baseUrl, tokens, timeoutMs: 200, retries, backoffMs: 5 });

async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('internal HTTP client', () => {
  it('sends a client_credentials token, cached until shortly before it expires', async () => {
    const before = issued;
    const client = clientWith();
    await Promise.all([client.get('/svc/ok'), client.get('/svc/ok'), client.get('/svc/ok')]);
    expect(issued - before).toBe(1);
    expect(seenAuth.at(-1)).toBe(`Bearer token-${issued}`);

    now += 260_000; // 40 s before expiry: outside the 30 s margin, still used
    await client.get('/svc/ok');
    expect(issued - before).toBe(1);
    now += 15_000; // 25 s before expiry: renew
    await client.get('/svc/ok');
    expect(issued - before).toBe(2);
    expect(seenAuth.at(-1)).toBe(`Bearer token-${issued}`);
  });

  it('retries a GET that got 503, with backoff, and then succeeds', async () => {
    expect(await clientWith().get('/svc/flaky-get')).toEqual({ ok: true });
    expect(hits.get('flaky-get')).toBe(3);
  });

  it('never retries a POST: it may already have happened', async () => {
    const error = await appErrorOf(clientWith().send('POST', '/svc/flaky-post', { a: 1 }));
    expect(hits.get('flaky-post')).toBe(1);
    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('svc.down');
  });

  it('gives up on a GET that times out after its retries, as unavailable', async () => {
    const error = await appErrorOf(clientWith(tokensFor(), 1).get('/svc/slow'));
    expect(hits.get('slow')).toBe(2);
    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('internal.unavailable');
    expect(error.message).toMatch(/no answer within 200 ms/);
  });

  it('gives up on a GET still 503 after its retries, with the server’s problem', async () => {
    const error = await appErrorOf(clientWith(tokensFor(), 2).get('/svc/always-down'));
    expect(hits.get('always-down')).toBe(3);
    expect(error.code).toBe('svc.down');
  });

  it('maps 404 to undefined for find and to the owner’s AppError for get', async () => {
    const client = clientWith();
    expect(await client.find('/svc/missing')).toBeUndefined();
    const error = await appErrorOf(client.get('/svc/missing'));
    expect(error.kind).toBe('not_found');
    expect(error.code).toBe('svc.thing-not-found');
    expect(error.message).toBe('detail of svc.thing-not-found');
  });

  it('maps other problem+json answers back to AppErrors of the same kind', async () => {
    const error = await appErrorOf(clientWith().find('/svc/conflict'));
    expect(error.kind).toBe('conflict');
    expect(error.code).toBe('svc.busy');
  });

  it('fetches a new token once when the server refuses the cached one', async () => {
    const tokens = tokensFor();
    issued = 0;
    expect(await clientWith(tokens).get('/svc/rejects-first-token')).toEqual({ ok: true });
    expect(issued).toBe(2);
  });

  it('reports a refused client as unavailable, without its secret', async () => {
    const error = await appErrorOf(clientWith(tokensFor('wrong-secret')).get('/svc/ok'));
    expect(error.kind).toBe('unavailable');
    expect(error.code).toBe('internal.token-refused');
    expect(error.message).not.toContain('wrong-secret');
  });

  it('reports a server that is not there as unavailable', async () => {
    const client = createInternalClient({
      baseUrl: 'http://127.0.0.1:9',
      tokens: { token: () => Promise.resolve('t'), refresh: () => undefined },
      timeoutMs: 200,
      retries: 1,
      backoffMs: 5,
    });
    const error = await appErrorOf(client.get('/svc/ok'));
    expect(error.kind).toBe('unavailable');
  });
});

describe('internal HTTP client circuit breaker', () => {
  const breakerClient = () =>
    createInternalClient({
      baseUrl,
      tokens: tokensFor(),
      timeoutMs: 200,
      retries: 1,
      backoffMs: 5,
      breaker: { failures: 2, halfOpenAfterMs: 300 },
    });

  it('opens after calls in a row find the service down, then fails at once without calling', async () => {
    switchDown = true;
    hits.set('switch', 0);
    const client = breakerClient();
    for (let i = 0; i < 2; i++) expect((await appErrorOf(client.get('/svc/switch'))).code).toBe('svc.down');
    expect(hits.get('switch')).toBe(4); // two calls, each retried once

    const started = Date.now();
    const refused = await appErrorOf(client.get('/svc/switch'));
    expect(refused.kind).toBe('unavailable');
    expect(refused.code).toBe('internal.circuit-open');
    // a change is not sent either: it might be lost, but never half-applied by a dying service
    expect((await appErrorOf(client.send('POST', '/svc/switch', {}))).code).toBe('internal.circuit-open');
    expect(hits.get('switch')).toBe(4);
    expect(Date.now() - started).toBeLessThan(150);
  });

  it('lets one trial call through after the pause, and closes again when it succeeds', async () => {
    switchDown = true;
    hits.set('switch', 0);
    const client = breakerClient();
    for (let i = 0; i < 2; i++) await appErrorOf(client.get('/svc/switch'));
    expect((await appErrorOf(client.get('/svc/switch'))).code).toBe('internal.circuit-open');

    switchDown = false;
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await client.get('/svc/switch')).toEqual({ up: true });
    expect(await client.get('/svc/switch')).toEqual({ up: true });
    expect(hits.get('switch')).toBe(6);
  });

  it('a trial call that fails opens it again', async () => {
    switchDown = true;
    const client = breakerClient();
    for (let i = 0; i < 2; i++) await appErrorOf(client.get('/svc/switch'));
    await new Promise((resolve) => setTimeout(resolve, 350));
    hits.set('switch', 0);
    expect((await appErrorOf(client.get('/svc/switch'))).code).toBe('svc.down');
    expect((await appErrorOf(client.get('/svc/switch'))).code).toBe('internal.circuit-open');
    expect(hits.get('switch')).toBe(2);
  });

  it('is not tripped by answers that say the call was wrong (404, 409)', async () => {
    const client = breakerClient();
    for (let i = 0; i < 5; i++) {
      expect(await client.find('/svc/missing')).toBeUndefined();
      expect((await appErrorOf(client.get('/svc/conflict'))).code).toBe('svc.busy');
    }
    expect(await client.get('/svc/ok')).toEqual({ ok: true });
  });

  it('is not tripped by a server that answers some calls: failures must come in a row', async () => {
    switchDown = true;
    const client = breakerClient();
    for (let i = 0; i < 4; i++) {
      await appErrorOf(client.get('/svc/switch'));
      expect(await client.get('/svc/ok')).toEqual({ ok: true });
    }
  });
});
