import { sql } from 'kysely';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingTables } from '../../platform/messaging/outbox.js';
import { epochSeconds } from './context.js';
import { type IdentityTestApp, startIdentityApp } from './identity.test-support.js';

let t: IdentityTestApp;
beforeAll(async () => {
  t = await startIdentityApp();
});
afterAll(async () => {
  await t.app.stop();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.app.inject({ method: 'POST', url, payload, headers, remoteAddress: '10.40.0.1' });
const get = (url: string, headers: Record<string, string>) =>
  t.app.app.inject({ method: 'GET', url, headers, remoteAddress: '10.40.0.1' });

const userRow = (id: string) =>
  t.identity.db.selectFrom('identity.users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

const closedEvents = (id: string) =>
  messagingTables(t.identity.db, 'identity')
    .selectFrom('outbox')
    .select(['type', 'data'])
    .where('aggregate_id', '=', id)
    .where('type', '=', 'identity.user.closed')
    .execute();

describe('closing my account', () => {
  it("erases the account's personal data, ends every session and token at once, and tells the other modules", async () => {
    const user = await t.createUser({ displayName: '林晓' });
    await t.identity.db
      .updateTable('identity.users')
      .set({ headline: 'about me', bio: 'a longer text about me' })
      .where('id', '=', user.id)
      .execute();
    const phone = await t.login(user.email, user.password);
    const laptop = await t.login(user.email, user.password);
    expect((await get('/api/v1/me', t.bearer(laptop.accessToken))).statusCode).toBe(200);

    const res = await post('/api/v1/me/close', { password: user.password }, t.bearer(phone.accessToken));
    expect(res.statusCode).toBe(204);

    // the other device's access token is refused at once, not at its expiry, and so is a refresh
    expect((await get('/api/v1/me', t.bearer(laptop.accessToken))).statusCode).toBe(401);
    expect((await get('/api/v1/me', t.bearer(phone.accessToken))).statusCode).toBe(401);
    expect((await post('/api/v1/auth/refresh', { refreshToken: laptop.refreshToken })).statusCode).toBe(401);

    const row = await userRow(user.id);
    expect(row).toMatchObject({
      status: 'closed',
      email: `${user.id}@closed.invalid`,
      display_name: '',
      headline: null,
      bio: null,
      email_verified_at: null,
    });
    expect(row.closed_at).toBeInstanceOf(Date);
    const sessions = await t.identity.db
      .selectFrom('identity.sessions')
      .select(['revoked_at', 'revoked_reason', 'ip', 'user_agent'])
      .where('user_id', '=', user.id)
      .execute();
    expect(sessions).toHaveLength(2);
    for (const s of sessions) {
      expect(s).toMatchObject({ revoked_reason: 'account_closed', ip: null, user_agent: null });
      expect(s.revoked_at).toBeInstanceOf(Date);
    }

    const events = await closedEvents(user.id);
    expect(events).toEqual([
      { type: 'identity.user.closed', data: { userId: user.id, closedAt: row.closed_at?.toISOString() } },
    ]);

    // the old address and password sign nobody in, with the answer an unknown address gets
    const login = await post('/api/v1/auth/login', { email: user.email, password: user.password });
    const unknown = await post('/api/v1/auth/login', {
      email: 'nobody-here@example.com',
      password: user.password,
    });
    expect(login.statusCode).toBe(401);
    expect(login.json().code).toBe(unknown.json().code);
    // nor does the stand-in address, whatever the password
    const standIn = await post('/api/v1/auth/login', {
      email: `${user.id}@closed.invalid`,
      password: '!closed',
    });
    expect(standIn.statusCode).toBe(401);

    // the address is free: registering it again makes a new account
    const again = await post('/api/v1/auth/register', {
      email: user.email,
      password: 'a-new-start-2026',
      displayName: 'Lin again',
    });
    expect(again.statusCode).toBe(202);
    const fresh = await t.identity.db
      .selectFrom('identity.users')
      .select(['id', 'status'])
      .where('email', '=', user.email)
      .executeTakeFirstOrThrow();
    expect(fresh.id).not.toBe(user.id);
    expect(fresh.status).toBe('active');
  });

  it('forgets the answers stored for its idempotency keys, and only its own', async () => {
    const user = await t.createUser();
    const other = await t.createUser();
    const storeAnswer = (userId: string, key: string) =>
      sql`insert into platform.idempotency_keys
            (scope, key, fingerprint, state, status_code, content_type, body, locked_until, expires_at)
          values (${`user:${userId}`}, ${key}, 'f', 'completed', 201, 'application/json',
                  '{"id":"an order of theirs"}', now(), now() + interval '1 day')`.execute(t.identity.db);
    await storeAnswer(user.id, 'order-1');
    await storeAnswer(user.id, 'order-2');
    await storeAnswer(other.id, 'order-1');
    const scopes = async () =>
      (
        await sql<{ scope: string }>`select scope from platform.idempotency_keys
          where scope in (${`user:${user.id}`}, ${`user:${other.id}`}) order by scope`.execute(t.identity.db)
      ).rows.map((r) => r.scope);
    expect(await scopes()).toHaveLength(3);

    const { accessToken } = await t.login(user.email, user.password);
    expect(
      (await post('/api/v1/me/close', { password: user.password }, t.bearer(accessToken))).statusCode,
    ).toBe(204);
    expect(await scopes()).toEqual([`user:${other.id}`]);
  });

  it('refuses a wrong password and changes nothing', async () => {
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    const res = await post('/api/v1/me/close', { password: 'not-my-password-1' }, t.bearer(accessToken));
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('identity.reauthentication-failed');
    expect((await userRow(user.id)).status).toBe('active');
    expect(await closedEvents(user.id)).toEqual([]);
    expect((await get('/api/v1/me', t.bearer(accessToken))).statusCode).toBe(200);
  });

  it('asks for a second factor as well while two-factor is on', async () => {
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    const auth = t.bearer(accessToken);
    const enrol = await post('/api/v1/me/mfa/totp/enroll', { password: user.password }, auth);
    const { secret } = enrol.json<{ secret: string }>();
    const code = await generate({ secret, epoch: epochSeconds(t.clock()) });
    const confirm = await post('/api/v1/me/mfa/totp/confirm', { code }, auth);
    expect(confirm.statusCode).toBe(200);
    const [recoveryCode] = confirm.json<{ recoveryCodes: string[] }>().recoveryCodes;

    const passwordOnly = await post('/api/v1/me/close', { password: user.password }, auth);
    expect(passwordOnly.statusCode).toBe(400);
    expect(passwordOnly.json().code).toBe('identity.reauthentication-required');
    const wrongCode = await post(
      '/api/v1/me/close',
      { password: user.password, recoveryCode: 'aaaa-bbbb-cccc-dddd' },
      auth,
    );
    expect(wrongCode.statusCode).toBe(400);
    expect((await userRow(user.id)).status).toBe('active');

    const res = await post('/api/v1/me/close', { password: user.password, recoveryCode }, auth);
    expect(res.statusCode).toBe(204);
    expect((await userRow(user.id)).status).toBe('closed');
    const factors = await t.identity.db
      .selectFrom('identity.totp')
      .select('user_id')
      .where('user_id', '=', user.id)
      .execute();
    expect(factors).toEqual([]);
    const codes = await t.identity.db
      .selectFrom('identity.recovery_codes')
      .select('user_id')
      .where('user_id', '=', user.id)
      .execute();
    expect(codes).toEqual([]);
  });

  it("refuses an instructor's or an admin's own closing: an admin removes the role first", async () => {
    for (const roles of [
      ['learner', 'instructor'],
      ['learner', 'admin'],
    ]) {
      const user = await t.createUser({ roles });
      const { accessToken } = await t.login(user.email, user.password);
      const res = await post('/api/v1/me/close', { password: user.password }, t.bearer(accessToken));
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('identity.account-close-refused');
      expect((await userRow(user.id)).status).toBe('active');
      expect(await closedEvents(user.id)).toEqual([]);
    }
  });

  it('leaves a closed account closed: an admin can neither enable, disable nor give it roles', async () => {
    const admin = await t.createUser({ roles: ['learner', 'admin'] });
    const adminAuth = t.bearer((await t.login(admin.email, admin.password)).accessToken);
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    expect(
      (await post('/api/v1/me/close', { password: user.password }, t.bearer(accessToken))).statusCode,
    ).toBe(204);

    for (const [url, body] of [
      [`/api/v1/admin/users/${user.id}/enable`, {}],
      [`/api/v1/admin/users/${user.id}/disable`, { reason: 'spam' }],
    ] as const) {
      const res = await post(url, body, adminAuth);
      expect(res.statusCode, url).toBe(409);
      expect(res.json().code).toBe('identity.account-closed');
    }
    const roles = await t.app.app.inject({
      method: 'PUT',
      url: `/api/v1/admin/users/${user.id}/roles`,
      payload: { roles: ['learner', 'instructor'] },
      headers: adminAuth,
    });
    expect(roles.statusCode).toBe(409);
    expect((await userRow(user.id)).status).toBe('closed');
    expect((await userRow(user.id)).roles).toEqual(['learner']);
  });

  it('answers bad input with a 400 and no token with a 401, closing nothing', async () => {
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    const auth = t.bearer(accessToken);
    for (const payload of [
      {},
      { password: `${user.password}\u0000` },
      { password: { text: 'x' } },
      { password: '\ud800x'.repeat(5) },
    ]) {
      const res = await post('/api/v1/me/close', payload, auth);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await post('/api/v1/me/close', { password: user.password })).statusCode).toBe(401);
    expect((await userRow(user.id)).status).toBe('active');
  });

  it("lets an admin close an account on its owner's request, a disabled one too, but not their own, an instructor's or twice", async () => {
    const admin = await t.createUser({ roles: ['learner', 'admin'] });
    const adminAuth = t.bearer((await t.login(admin.email, admin.password)).accessToken);
    const close = (id: string, headers = adminAuth) =>
      post(`/api/v1/admin/users/${id}/close`, { reason: 'asked by mail, ticket #1' }, headers);

    const user = await t.createUser({ displayName: 'Asked by mail' });
    const { accessToken } = await t.login(user.email, user.password);
    // a learner may not close someone else's account
    const other = await t.createUser();
    expect((await close(other.id, t.bearer(accessToken))).statusCode).toBe(403);

    const res = await close(user.id);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: user.id, status: 'closed', email: `${user.id}@closed.invalid` });
    expect((await get('/api/v1/me', t.bearer(accessToken))).statusCode).toBe(401);
    expect(await closedEvents(user.id)).toHaveLength(1);
    const audited = await t.identity.db
      .selectFrom('identity.audit_events')
      .select(['actor_id', 'details'])
      .where('user_id', '=', user.id)
      .where('type', '=', 'user.closed')
      .executeTakeFirstOrThrow();
    expect(audited).toMatchObject({ actor_id: admin.id, details: { reason: 'asked by mail, ticket #1' } });
    expect((await close(user.id)).statusCode).toBe(409);

    const disabled = await t.createUser();
    expect((await post(`/api/v1/admin/users/${disabled.id}/disable`, {}, adminAuth)).statusCode).toBe(200);
    expect((await close(disabled.id)).statusCode).toBe(200);
    expect((await userRow(disabled.id)).status).toBe('closed');

    const instructor = await t.createUser({ roles: ['learner', 'instructor'] });
    const refused = await close(instructor.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('identity.account-close-refused');
    expect((await close(admin.id)).statusCode).toBe(409);
    expect((await userRow(admin.id)).status).toBe('active');
    expect((await post(`/api/v1/admin/users/${crypto.randomUUID()}/close`, {}, adminAuth)).statusCode).toBe(
      404,
    );
    expect((await post('/api/v1/admin/users/not-a-uuid/close', {}, adminAuth)).statusCode).toBe(400);
  });
});
