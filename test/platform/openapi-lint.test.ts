import { createConfig, lintFromString } from '@redocly/openapi-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operationIdOf } from '../../src/platform/http/openapi.js';
import { compileAllRouteSchemas } from '../../src/platform/http/server.js';
import { buildAllModulesApp } from '../helpers/all-modules.js';
import type { TestApp } from '../helpers/app.js';

let t: TestApp;

beforeAll(async () => {
  ({ t } = await buildAllModulesApp({ worker: false }));
});
afterAll(async () => {
  await t.stop();
});

describe('the OpenAPI document of the whole app', () => {
  it("lints clean with Redocly's recommended rules", async () => {
    const document = await t.app.inject({ url: '/openapi.json' });
    expect(document.statusCode).toBe(200);
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: document.body, absoluteRef: 'openapi.json', config });
    const report = problems.map(
      (p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? ''}`,
    );
    expect(report).toEqual([]);
  });

  it('names every operation, declares public ones public, and says where the server is', () => {
    const doc = t.app.swagger() as {
      servers?: { url: string }[];
      info: { license?: { name: string } };
      components?: { securitySchemes?: Record<string, unknown> };
      paths: Record<string, Record<string, { operationId?: string; security?: unknown[] }>>;
    };
    expect(doc.servers?.[0]?.url).toBe('/');
    expect(doc.info.license?.name).toBe('Apache-2.0');
    const ops = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(ops.length).toBeGreaterThan(50);
    const ids = ops.map((op) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ops.every((op) => Array.isArray(op.security))).toBe(true);
    expect(doc.paths['/api/v1/courses']?.get?.security).toEqual([]);
    // OAuth clients authenticate by HTTP Basic or in the form body (RFC 6749 §2.3.1)
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
      expect(doc.paths[path]?.post?.security, path).toEqual([{ clientBasic: [] }, {}]);
    }
    expect(doc.components?.securitySchemes?.clientBasic).toMatchObject({ type: 'http', scheme: 'basic' });
  });

  it('derives operation ids from method and path', () => {
    expect(operationIdOf('GET', '/api/v1/courses/{courseId}/chapters')).toBe('getCoursesByCourseIdChapters');
    expect(operationIdOf('get', '/.well-known/jwks.json')).toBe('getWellKnownJwksJson');
    expect(operationIdOf('post', '/oauth/token')).toBe('postOauthToken');
  });
});

describe('the route schemas of the whole app', () => {
  // they compile on first use (lazy-compilers.ts): without this, a schema that does not compile
  // would show only when its route is first called
  it('all compile', async () => {
    const errors: unknown[] = [];
    const compiled = await compileAllRouteSchemas(t.app, (err) => errors.push(err));
    expect(errors).toEqual([]);
    // a validator or serializer per route part and status, for 100+ routes
    expect(compiled).toBeGreaterThan(200);
    expect(await compileAllRouteSchemas(t.app, (err) => errors.push(err))).toBe(0);
  });
});
