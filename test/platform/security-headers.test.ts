import cors from '@fastify/cors';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaderOptions } from '../../src/platform/http/security-headers.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule } from '../helpers/probe-module.js';

// The server sets helmet's headers from a table computed once. This compares them with what
// @fastify/helmet itself sends for the same options, on the kinds of response that matter.
let t: TestApp;
let reference: FastifyInstance;

beforeAll(async () => {
  t = await buildTestApp((platform) => [createProbeModule(platform.database.db)]);
  reference = Fastify();
  // the same options object; helmet's ESM and CJS typings declare its types twice, hence the cast
  await reference.register(helmet, securityHeaderOptions as FastifyHelmetOptions);
  await reference.register(cors, { origin: true });
  reference.get('/healthz', () => ({ status: 'ok' }));
  reference.get('/boom', () => {
    throw new Error('boom');
  });
  await reference.ready();
});
afterAll(async () => {
  await t.stop();
  await reference.close();
});

type Headers = Record<string, string | string[] | number | undefined>;

/** The headers @fastify/helmet adds: those of its answer that plain Fastify does not send. */
const fastifyOwn = new Set([
  'content-type',
  'content-length',
  'date',
  'connection',
  'keep-alive',
  'vary',
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
]);
function helmetPart(headers: Headers): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !fastifyOwn.has(name)));
}

const requests = [
  { label: 'a JSON answer', ours: { url: '/healthz' }, theirs: { url: '/healthz' } },
  { label: 'a 404', ours: { url: '/nowhere' }, theirs: { url: '/nowhere' } },
  { label: 'a 500', ours: { url: '/api/v1/probe/boom' }, theirs: { url: '/boom' } },
  {
    label: 'a CORS preflight',
    ours: {
      method: 'OPTIONS' as const,
      url: '/healthz',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    },
    theirs: {
      method: 'OPTIONS' as const,
      url: '/healthz',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    },
  },
];

describe('security headers', () => {
  it.each(requests)('are those @fastify/helmet sends, on $label', async ({ ours, theirs }) => {
    const expected = helmetPart((await reference.inject(theirs)).headers);
    const actual = (await t.app.inject(ours)).headers;
    // guard against comparing nothing: helmet's options here produce a dozen headers
    expect(Object.keys(expected).length).toBeGreaterThanOrEqual(10);
    expect(expected['content-security-policy']).toMatch(/^default-src 'none';.*frame-ancestors 'none'/);
    for (const [name, value] of Object.entries(expected)) {
      expect({ name, value: actual[name] }).toEqual({ name, value });
    }
  });
});
