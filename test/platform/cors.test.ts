import cors from '@fastify/cors';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule } from '../helpers/probe-module.js';

// The server answers ordinary requests' CORS from a hook of its own and leaves preflights to
// @fastify/cors (cors.ts). These compare its CORS headers with what @fastify/cors alone sends
// for the same options, with and without an Origin header.
const exposedHeaders = ['x-request-id', 'retry-after', 'idempotent-replayed', 'location'];

function corsPart(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name === 'vary' || name.startsWith('access-control-')),
  );
}

async function referenceServer(origin: boolean | string[]): Promise<FastifyInstance> {
  const reference = Fastify();
  await reference.register(cors, { origin, credentials: false, exposedHeaders });
  reference.get('/healthz', () => ({ status: 'ok' }));
  await reference.ready();
  return reference;
}

const preflight = (origin: string): InjectOptions => ({
  method: 'OPTIONS',
  url: '/healthz',
  headers: {
    origin,
    'access-control-request-method': 'GET',
    'access-control-request-headers': 'authorization',
  },
});

const cases: { label: string; request: InjectOptions }[] = [
  { label: 'a GET without Origin', request: { url: '/healthz' } },
  { label: 'a GET with an Origin', request: { url: '/healthz', headers: { origin: 'https://app.example' } } },
  {
    label: 'a GET from another origin',
    request: { url: '/healthz', headers: { origin: 'https://evil.example' } },
  },
  { label: 'a 404 with an Origin', request: { url: '/nowhere', headers: { origin: 'https://app.example' } } },
  { label: 'a 404 without Origin', request: { url: '/nowhere' } },
  { label: 'a preflight', request: preflight('https://app.example') },
  { label: 'a preflight from another origin', request: preflight('https://evil.example') },
  { label: 'a preflight without Origin', request: { method: 'OPTIONS', url: '/healthz' } },
];

describe.each([
  { config: '*', origin: true },
  {
    config: 'https://app.example,https://admin.example',
    origin: ['https://app.example', 'https://admin.example'],
  },
])('CORS with CORS_ORIGINS=$config', ({ config, origin }) => {
  let t: TestApp;
  let reference: FastifyInstance;
  beforeAll(async () => {
    t = await buildTestApp((platform) => [createProbeModule(platform.database.db)], {
      env: { CORS_ORIGINS: config },
    });
    reference = await referenceServer(origin);
  });
  afterAll(async () => {
    await t.stop();
    await reference.close();
  });

  it.each(cases)('sends the headers @fastify/cors sends, on $label', async ({ request }) => {
    const theirs = await reference.inject(request);
    const ours = await t.app.inject(request);
    expect(ours.statusCode).toBe(theirs.statusCode);
    expect(corsPart(ours.headers)).toEqual(corsPart(theirs.headers));
  });

  it('exposes the headers and varies on Origin even without one (guard against comparing nothing)', async () => {
    const ours = await t.app.inject({ url: '/healthz' });
    expect(ours.headers['access-control-expose-headers']).toBe(exposedHeaders.join(', '));
    expect(ours.headers.vary).toBe('Origin');
    const allowed = await t.app.inject({ url: '/healthz', headers: { origin: 'https://app.example' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});
