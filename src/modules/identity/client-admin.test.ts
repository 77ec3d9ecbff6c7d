import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IdentityTestApp, startIdentityApp } from './identity.test-support.js';

let t: IdentityTestApp;
let adminAuth: { authorization: string };
beforeAll(async () => {
  t = await startIdentityApp();
  const admin = await t.createUser({ roles: ['learner', 'admin'] });
  adminAuth = t.bearer((await t.login(admin.email, admin.password)).accessToken);
});
afterAll(async () => {
  await t.app.stop();
});

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** The token endpoint with a form body, as a client sends it. */
const tokenRequest = (form: Record<string, string>, headers: Record<string, string> = {}) =>
  t.app.app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });

async function clientToken(clientId: string, secret: string): Promise<string> {
  const res = await tokenRequest(
    { grant_type: 'client_credentials' },
    { authorization: basic(clientId, secret) },
  );
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ access_token: string }>().access_token;
}

/** A route that takes the internal scope's client tokens: 404 for nobody once the token passes. */
const internalCall = (token: string) =>
  t.app.app.inject({
    method: 'GET',
    url: `/internal/v1/identity/users/${randomUUID()}`,
    headers: { authorization: `Bearer ${token}` },
  });

const admin = (url: string) => t.app.app.inject({ method: 'POST', url, headers: adminAuth });

describe("an admin's hold on OAuth clients", () => {
  it('rotating a secret refuses the old secret and every token got with it at once; the new one works', async () => {
    const created = await t.identity.api.registerClient({
      name: 'Partner service',
      grantTypes: ['client_credentials'],
      scopes: ['internal'],
      confidential: true,
    });
    const oldSecret = created.clientSecret ?? '';
    const oldToken = await clientToken(created.clientId, oldSecret);
    expect((await internalCall(oldToken)).statusCode).toBe(404);

    const rotated = await admin(`/api/v1/admin/clients/${created.clientId}/secret`);
    expect(rotated.statusCode).toBe(200);
    const { clientSecret } = rotated.json<{ clientSecret: string }>();
    expect(clientSecret).toMatch(/^cs_/);
    expect(clientSecret).not.toBe(oldSecret);

    expect((await internalCall(oldToken)).statusCode).toBe(401);
    const withOld = await tokenRequest(
      { grant_type: 'client_credentials' },
      { authorization: basic(created.clientId, oldSecret) },
    );
    expect(withOld.statusCode).toBe(401);
    expect(withOld.json()).toMatchObject({ error: 'invalid_client' });
    // a token got with the new secret in the very second of the rotation is dated after it
    expect((await internalCall(await clientToken(created.clientId, clientSecret))).statusCode).toBe(404);
  });

  it("disabling refuses the client and its users' sessions at once; enabling lets it sign in again", async () => {
    const app = await t.identity.api.registerClient({
      name: 'First-party kiosk',
      grantTypes: ['password', 'refresh_token', 'client_credentials'],
      scopes: ['internal'],
      confidential: true,
      firstParty: true,
    });
    const secret = app.clientSecret ?? '';
    const auth = { authorization: basic(app.clientId, secret) };
    const user = await t.createUser();
    const signIn = await tokenRequest(
      { grant_type: 'password', username: user.email, password: user.password },
      auth,
    );
    expect(signIn.statusCode).toBe(200);
    const userTokens = signIn.json<{ access_token: string; refresh_token: string }>();
    const clientTok = await clientToken(app.clientId, secret);
    const me = () =>
      t.app.app.inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(userTokens.access_token) });
    expect((await me()).statusCode).toBe(200);

    const disabled = await admin(`/api/v1/admin/clients/${app.clientId}/disable`);
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ clientId: app.clientId, disabledAt: expect.any(String) });

    expect((await me()).statusCode).toBe(401);
    expect((await internalCall(clientTok)).statusCode).toBe(401);
    const refresh = await tokenRequest(
      { grant_type: 'refresh_token', refresh_token: userTokens.refresh_token },
      auth,
    );
    expect(refresh.statusCode).toBe(401);
    expect((await tokenRequest({ grant_type: 'client_credentials' }, auth)).statusCode).toBe(401);
    // the same user signs in through the built-in app as before
    await t.login(user.email, user.password);

    const enabled = await admin(`/api/v1/admin/clients/${app.clientId}/enable`);
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json()).toMatchObject({ disabledAt: null });
    expect((await internalCall(await clientToken(app.clientId, secret))).statusCode).toBe(404);
    // the revoked sessions stay revoked
    expect(
      (await tokenRequest({ grant_type: 'refresh_token', refresh_token: userTokens.refresh_token }, auth))
        .statusCode,
    ).not.toBe(200);
  });

  it('refuses the built-in app client, a public client’s rotation, unknown ids and non-admins', async () => {
    expect((await admin('/api/v1/admin/clients/lectern-app/disable')).json()).toMatchObject({
      code: 'identity.client-built-in',
    });
    const publicApp = await t.identity.api.registerClient({
      name: 'Mobile app',
      grantTypes: ['refresh_token'],
      scopes: [],
      confidential: false,
    });
    const rotate = await admin(`/api/v1/admin/clients/${publicApp.clientId}/secret`);
    expect(rotate.statusCode).toBe(409);
    expect(rotate.json().code).toBe('identity.client-has-no-secret');
    expect((await admin('/api/v1/admin/clients/cl_nobody/disable')).statusCode).toBe(404);
    for (const bad of ['a%00b', 'x'.repeat(65), '%F0%9F%98%80']) {
      expect((await admin(`/api/v1/admin/clients/${bad}/secret`)).statusCode, bad).toBe(400);
    }
    const learner = await t.createUser();
    const learnerAuth = t.bearer((await t.login(learner.email, learner.password)).accessToken);
    const forbidden = await t.app.app.inject({
      method: 'POST',
      url: `/api/v1/admin/clients/${publicApp.clientId}/disable`,
      headers: learnerAuth,
    });
    expect(forbidden.statusCode).toBe(403);
    const list = await t.app.app.inject({ method: 'GET', url: '/api/v1/admin/clients', headers: adminAuth });
    expect(list.json<{ data: { clientId: string; disabledAt: string | null }[] }>().data).toContainEqual(
      expect.objectContaining({ clientId: publicApp.clientId, disabledAt: null }),
    );
  });
});
