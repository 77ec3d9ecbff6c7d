import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientCredentialsTokens,
  createInternalClient,
  type InternalClient,
} from '../../platform/http/internal-client.js';
import { type IdentityDirectory, identityHttpClient } from './identity.api.js';
import { type IdentityTestApp, startIdentityApp } from './identity.test-support.js';
import { INTERNAL_SCOPE } from './internal.routes.js';

// identity's internal API over real HTTP, through the same client a split-out service uses
let t: IdentityTestApp;
let base: string;
let remote: IdentityDirectory;
let http: InternalClient;
let user: { id: string; email: string; password: string };

const clientFor = async (scopes: string[]) => {
  const created = await t.identity.api.registerClient({
    name: `service ${scopes.join(' ') || 'without scopes'}`,
    grantTypes: ['client_credentials'],
    scopes,
    confidential: true,
  });
  return clientCredentialsTokens({
    tokenUrl: `${base}/oauth/token`,
    clientId: created.clientId,
    clientSecret: created.clientSecret ?? '',
    scope: scopes.join(' '),
    timeoutMs: 5000,
  });
};

beforeAll(async () => {
  t = await startIdentityApp();
  base = await t.app.app.listen({ host: '127.0.0.1', port: 0 });
  http = createInternalClient({
    baseUrl: base,
    tokens: await clientFor([INTERNAL_SCOPE]),
    timeoutMs: 5000,
    retries: 1,
  });
  remote = identityHttpClient(http);
  user = await t.createUser({ displayName: 'Remote Ada' });
});
afterAll(async () => {
  await t.app.stop();
});

describe('identity internal API', () => {
  it('answers over HTTP exactly what the in-process API answers', async () => {
    const local = await t.identity.api.getUser(user.id);
    expect(local?.displayName).toBe('Remote Ada');
    expect(await remote.getUser(user.id)).toEqual(local);
    expect(await remote.findUserByEmail(user.email)).toEqual(local);
  });

  it('nobody is undefined: an unknown id, a malformed id, an unknown email', async () => {
    expect(await remote.getUser(randomUUID())).toBeUndefined();
    expect(await remote.getUser('not-a-uuid')).toBeUndefined();
    expect(await remote.findUserByEmail('nobody@example.com')).toBeUndefined();
  });

  it('refuses a user token, a client without the internal scope, and no token', async () => {
    const url = `${base}/internal/v1/identity/users/${user.id}`;
    const userToken = (await t.login(user.email, user.password)).accessToken;
    const asUser = await fetch(url, { headers: { authorization: `Bearer ${userToken}` } });
    expect(asUser.status).toBe(403);
    expect(((await asUser.json()) as { code: string }).code).toBe('identity.internal-only');

    const reader = await clientFor(['catalog:read']);
    const asReader = await fetch(url, { headers: { authorization: `Bearer ${await reader.token()}` } });
    expect(asReader.status).toBe(403);
    expect(((await asReader.json()) as { code: string }).code).toBe('auth.scope-required');

    expect((await fetch(url)).status).toBe(401);
  });

  it('maps a bad request back to a validation AppError', async () => {
    await expect(http.get('/internal/v1/identity/users/by-email')).rejects.toMatchObject({
      kind: 'validation',
    });
  });

  it('keeps the internal routes out of the public OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/internal'))).toEqual([]);
  });
});
