// Regression tests of identity's items in issue 8: each case failed before its fix. Role and
// status changes bind tokens at once; deny entries only after commit; RFC 7009 for client
// tokens; one issuer, never the Host header. (The throttle's items are in throttle.test.ts.)
import { sql } from 'kysely';
import { decodeJwt } from 'jose';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epochSeconds } from './context.js';
import { type IdentityTestApp, startIdentityApp, tokenIn } from './identity.test-support.js';

let t: IdentityTestApp;
let root: { authorization: string };

beforeAll(async () => {
  t = await startIdentityApp();
  const admin = await t.createUser({ roles: ['learner', 'admin'] });
  root = t.bearer((await t.login(admin.email, admin.password)).accessToken);
});
afterAll(async () => {
  await t.app.stop();
});

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, headers: object, payload?: object) =>
  t.app.app.inject({
    method,
    url,
    headers: headers as Record<string, string>,
    ...(payload ? { payload } : {}),
  });

describe('role and status changes bind existing tokens at once', () => {
  it('an admin demoted to learner can no longer use the old token to list, disable or re-grant', async () => {
    const second = await t.createUser({ roles: ['learner', 'admin'] });
    const victim = await t.createUser();
    const session = await t.login(second.email, second.password);
    const old = t.bearer(session.accessToken);
    expect((await inject('GET', '/api/v1/admin/users', old)).statusCode).toBe(200);

    const demoted = await inject('PUT', `/api/v1/admin/users/${second.id}/roles`, root, {
      roles: ['learner'],
    });
    expect(demoted.statusCode).toBe(200);

    const list = await inject('GET', '/api/v1/admin/users', old);
    expect(list.statusCode).toBe(401);
    expect(list.json()).toMatchObject({ code: 'auth.token-revoked' });
    const disable = await inject('POST', `/api/v1/admin/users/${victim.id}/disable`, old, {});
    expect(disable.statusCode).toBe(401);
    const regrant = await inject('PUT', `/api/v1/admin/users/${second.id}/roles`, old, {
      roles: ['learner', 'admin'],
    });
    expect(regrant.statusCode).toBe(401);
    expect((await t.identity.api.getUser(victim.id))?.status).toBe('active');
    expect((await t.identity.api.getUser(second.id))?.roles).toEqual(['learner']);

    // the session lives on: a refresh, even in the same second, brings a token with the new roles
    const refreshed = await inject(
      'POST',
      '/api/v1/auth/refresh',
      {},
      { refreshToken: session.refreshToken },
    );
    expect(refreshed.statusCode).toBe(200);
    const fresh = t.bearer(refreshed.json<{ accessToken: string }>().accessToken);
    expect(decodeJwt(refreshed.json<{ accessToken: string }>().accessToken).roles).toEqual(['learner']);
    expect((await inject('GET', '/api/v1/me', fresh)).statusCode).toBe(200);
    expect((await inject('GET', '/api/v1/admin/users', fresh)).statusCode).toBe(403);
  });

  it('an approved applicant’s old token is refused; a refresh carries the instructor role', async () => {
    const learner = await t.createUser();
    const session = await t.login(learner.email, learner.password);
    const old = t.bearer(session.accessToken);
    const applied = await inject('POST', '/api/v1/me/instructor-application', old, {
      motivation: 'Ten years of teaching databases; I would like to publish a course here.',
    });
    expect(applied.statusCode).toBe(201);
    const id = applied.json<{ id: string }>().id;
    expect(
      (await inject('POST', `/api/v1/admin/instructor-applications/${id}/approve`, root, {})).statusCode,
    ).toBe(200);
    expect((await inject('GET', '/api/v1/me', old)).statusCode).toBe(401);
    const refreshed = await inject(
      'POST',
      '/api/v1/auth/refresh',
      {},
      { refreshToken: session.refreshToken },
    );
    expect(decodeJwt(refreshed.json<{ accessToken: string }>().accessToken).roles).toContain('instructor');
  });

  it('re-enabling a user voids tokens from before, and a new sign-in works at once', async () => {
    const user = await t.createUser();
    const before = t.bearer((await t.login(user.email, user.password)).accessToken);
    expect((await inject('POST', `/api/v1/admin/users/${user.id}/disable`, root, {})).statusCode).toBe(200);
    expect((await inject('POST', `/api/v1/admin/users/${user.id}/enable`, root)).statusCode).toBe(200);
    expect((await inject('GET', '/api/v1/me', before)).statusCode).toBe(401);
    const after = t.bearer((await t.login(user.email, user.password)).accessToken);
    expect((await inject('GET', '/api/v1/me', after)).statusCode).toBe(200);
  });
});

describe('deny-list entries are written after commit', () => {
  it('a disable that fails to commit leaves the user’s tokens and sessions working', async () => {
    const user = await t.createUser();
    const session = await t.login(user.email, user.password);
    // make the disable's transaction fail after its sessions were revoked inside it
    await sql`create or replace function identity.fail_disable() returns trigger language plpgsql as $$
      begin if new.type = 'user.disabled' then raise exception 'disable fails for this test'; end if; return new; end $$`.execute(
      t.identity.db,
    );
    await sql`create trigger fail_disable before insert on identity.audit_events
      for each row execute function identity.fail_disable()`.execute(t.identity.db);
    try {
      const res = await inject('POST', `/api/v1/admin/users/${user.id}/disable`, root, {});
      expect(res.statusCode).toBe(500);
    } finally {
      await sql`drop trigger fail_disable on identity.audit_events`.execute(t.identity.db);
      await sql`drop function identity.fail_disable()`.execute(t.identity.db);
    }
    expect((await t.identity.api.getUser(user.id))?.status).toBe('active');
    expect((await inject('GET', '/api/v1/me', t.bearer(session.accessToken))).statusCode).toBe(200);
    const refreshed = await inject(
      'POST',
      '/api/v1/auth/refresh',
      {},
      { refreshToken: session.refreshToken },
    );
    expect(refreshed.statusCode).toBe(200);
  });
});

describe('other credentials that a password change or a disable must end', () => {
  const NEW_PASSWORD = 'granite-sparrow-204';

  it('an MFA challenge opened with the old password dies when the password is changed', async () => {
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    const auth = t.bearer(accessToken);
    const enrol = await inject('POST', '/api/v1/me/mfa/totp/enroll', auth, { password: user.password });
    const { secret } = enrol.json<{ secret: string }>();
    const code = await generate({ secret, epoch: epochSeconds(t.clock()) });
    const confirm = await inject('POST', '/api/v1/me/mfa/totp/confirm', auth, { code });
    expect(confirm.statusCode).toBe(200);
    const [recoveryCode] = confirm.json<{ recoveryCodes: string[] }>().recoveryCodes;

    // someone who knows the old password opens a challenge...
    const login = await inject(
      'POST',
      '/api/v1/auth/login',
      {},
      { email: user.email, password: user.password },
    );
    const { mfaToken } = login.json<{ mfaToken: string }>();
    // ...the owner changes the password...
    t.clock.advance(1);
    const changed = await inject('POST', '/api/v1/me/password', auth, {
      currentPassword: user.password,
      newPassword: NEW_PASSWORD,
    });
    expect(changed.statusCode).toBe(200);
    // ...and the challenge no longer completes, even with a valid second factor
    const done = await inject('POST', '/api/v1/auth/login/mfa', {}, { mfaToken, recoveryCode });
    expect(done.statusCode).toBe(401);
    expect(done.json()).toMatchObject({ code: 'identity.mfa-challenge-invalid' });
  });

  it('a reset link mailed before a password change cannot undo it', async () => {
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    await inject('POST', '/api/v1/auth/password-reset/request', {}, { email: user.email });
    const link = tokenIn(await t.mailer.next(user.email, /Reset your/));
    const changed = await inject('POST', '/api/v1/me/password', t.bearer(accessToken), {
      currentPassword: user.password,
      newPassword: NEW_PASSWORD,
    });
    expect(changed.statusCode).toBe(200);
    const reset = await inject(
      'POST',
      '/api/v1/auth/password-reset/confirm',
      {},
      {
        token: link,
        newPassword: 'copper-meadow-5821',
      },
    );
    expect(reset.statusCode).toBe(400);
    expect(reset.json()).toMatchObject({ code: 'identity.token-invalid' });
    await t.login(user.email, NEW_PASSWORD);
  });

  it('a reset link of a disabled account sets no password', async () => {
    const user = await t.createUser();
    await inject('POST', '/api/v1/auth/password-reset/request', {}, { email: user.email });
    const link = tokenIn(await t.mailer.next(user.email, /Reset your/));
    expect((await inject('POST', `/api/v1/admin/users/${user.id}/disable`, root, {})).statusCode).toBe(200);
    const reset = await inject(
      'POST',
      '/api/v1/auth/password-reset/confirm',
      {},
      {
        token: link,
        newPassword: 'copper-meadow-5821',
      },
    );
    expect(reset.statusCode).toBe(400);
    expect((await inject('POST', `/api/v1/admin/users/${user.id}/enable`, root)).statusCode).toBe(200);
    await t.login(user.email, user.password);
  });
});

describe('RFC 7009 for client_credentials tokens', () => {
  it('a revoked client token is inactive at introspection and refused by routes at once', async () => {
    const partner = await t.identity.api.registerClient({
      name: 'Partner',
      grantTypes: ['client_credentials'],
      scopes: ['catalog:read'],
      confidential: true,
    });
    const basic = `Basic ${Buffer.from(`${partner.clientId}:${partner.clientSecret ?? ''}`).toString('base64')}`;
    const form = (url: string, body: Record<string, string>) =>
      t.app.app.inject({
        method: 'POST',
        url,
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(body).toString(),
      });
    const issued = await form('/oauth/token', { grant_type: 'client_credentials' });
    expect(issued.statusCode).toBe(200);
    const token = issued.json<{ access_token: string }>().access_token;
    const other = (await form('/oauth/token', { grant_type: 'client_credentials' })).json<{
      access_token: string;
    }>().access_token;
    expect((await form('/oauth/introspect', { token })).json()).toMatchObject({ active: true });
    expect((await inject('GET', '/api/v1/auth/token-info', t.bearer(token))).statusCode).toBe(200);

    expect((await form('/oauth/revoke', { token })).statusCode).toBe(200);

    expect((await form('/oauth/introspect', { token })).json()).toEqual({ active: false });
    const refused = await inject('GET', '/api/v1/auth/token-info', t.bearer(token));
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'auth.token-revoked' });
    // only that token: the client's other token still works
    expect((await inject('GET', '/api/v1/auth/token-info', t.bearer(other))).statusCode).toBe(200);
  });
});

describe('one issuer', () => {
  it('the metadata issuer is the access tokens’ iss, and a forged Host header changes nothing', async () => {
    const res = await t.app.app.inject({
      method: 'GET',
      url: '/.well-known/oauth-authorization-server',
      headers: { host: 'attacker.example', 'x-forwarded-host': 'attacker.example' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain('attacker.example');
    const meta = res.json<{ issuer: string; token_endpoint: string }>();
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    expect(meta.issuer).toBe(decodeJwt(accessToken).iss);
    expect(meta.issuer).toBe(t.app.platform.config.jwtIssuer);
    expect(meta.token_endpoint).toBe(`http://localhost:${t.app.platform.config.port}/oauth/token`);
  });
});
