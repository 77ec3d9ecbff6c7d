import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingTables } from '../../platform/messaging/outbox.js';
import { type IdentityTestApp, startIdentityApp, tokenIn } from './identity.test-support.js';

let t: IdentityTestApp;
beforeAll(async () => {
  t = await startIdentityApp();
});
afterAll(async () => {
  await t.app.stop();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.app.inject({ method: 'POST', url, payload, headers, remoteAddress: '10.50.0.1' });

const emailOf = async (id: string) =>
  (
    await t.identity.db
      .selectFrom('identity.users')
      .select('email')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).email;

const changeEvents = (id: string) =>
  messagingTables(t.identity.db, 'identity')
    .selectFrom('outbox')
    .select('data')
    .where('aggregate_id', '=', id)
    .where('type', '=', 'identity.user.email_changed')
    .execute();

async function signedIn() {
  const user = await t.createUser();
  const { accessToken } = await t.login(user.email, user.password);
  return { ...user, auth: t.bearer(accessToken) };
}

describe('changing my email address', () => {
  it('moves the account once the new address confirms; the old one is told and signs in no more', async () => {
    const user = await signedIn();
    const newEmail = `moved-${user.id}@example.org`;

    // a reset link mailed to the old address before the change
    await post('/api/v1/auth/password-reset/request', { email: user.email });
    const resetToken = tokenIn(await t.mailer.next(user.email, /Reset your/));

    const asked = await post(
      '/api/v1/me/email',
      { newEmail: `  ${newEmail.toUpperCase()} `, password: user.password },
      user.auth,
    );
    expect(asked.statusCode).toBe(202);
    expect(asked.json()).toEqual({ status: 'accepted', message: expect.any(String) });
    await t.mailer.next(user.email, /new email address was requested/);
    const token = tokenIn(await t.mailer.next(newEmail, /Confirm your new/));
    // nothing moves before the new address confirms
    expect(await emailOf(user.id)).toBe(user.email);

    const confirmed = await post('/api/v1/auth/email-change/confirm', { token });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ id: user.id, email: newEmail, emailVerified: true });
    await t.mailer.next(user.email, /moved to another email address/);
    expect(await changeEvents(user.id)).toEqual([{ data: { userId: user.id, email: newEmail } }]);

    expect((await post('/api/v1/auth/email-change/confirm', { token })).statusCode).toBe(400);
    expect(
      (await post('/api/v1/auth/login', { email: user.email, password: user.password })).statusCode,
    ).toBe(401);
    await t.login(newEmail, user.password);
    // the reset link mailed to the old address died with the change
    const reset = await post('/api/v1/auth/password-reset/confirm', {
      token: resetToken,
      newPassword: 'taken-over-account-1',
    });
    expect(reset.statusCode).toBe(400);
    // the session that asked lives on: tokens carry no address
    const me = await t.app.app.inject({ method: 'GET', url: '/api/v1/me', headers: user.auth });
    expect(me.json()).toMatchObject({ email: newEmail });
  });

  it('answers the same for an address that has an account, tells its owner, and moves nothing', async () => {
    const user = await signedIn();
    const other = await t.createUser();
    const res = await post('/api/v1/me/email', { newEmail: other.email, password: user.password }, user.auth);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ status: 'accepted', message: expect.any(String) });
    await t.mailer.next(other.email, /tried to use your address/);
    expect(t.mailer.sent.filter((m) => m.to === other.email && /Confirm/.test(m.subject))).toEqual([]);
    expect(await emailOf(user.id)).toBe(user.email);
  });

  it('refuses a wrong password, the current address and malformed input, sending nothing', async () => {
    const user = await signedIn();
    const before = t.mailer.sent.length;
    const wrong = await post(
      '/api/v1/me/email',
      { newEmail: `x-${user.id}@example.org`, password: 'not-the-password-9' },
      user.auth,
    );
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('identity.current-password-incorrect');
    const same = await post(
      '/api/v1/me/email',
      { newEmail: user.email.toUpperCase(), password: user.password },
      user.auth,
    );
    expect(same.statusCode).toBe(400);
    expect(same.json().code).toBe('identity.email-unchanged');
    for (const newEmail of [
      'not-an-address',
      `a\u0000b@example.org`,
      `${'x'.repeat(400)}@example.org`,
      '\ud800@example.org',
    ]) {
      const res = await post('/api/v1/me/email', { newEmail, password: user.password }, user.auth);
      expect(res.statusCode, newEmail).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      (await post('/api/v1/me/email', { newEmail: 'a@example.org', password: user.password })).statusCode,
    ).toBe(401);
    for (const token of ['', 'x'.repeat(5000), 'forged-token-value']) {
      const res = await post('/api/v1/auth/email-change/confirm', { token });
      expect(res.statusCode, token.slice(0, 10)).toBe(400);
    }
    expect(t.mailer.sent.length).toBe(before);
    expect(await emailOf(user.id)).toBe(user.email);
  });

  it('refuses with 409 when the address was taken after the link went out, and keeps only the newest link', async () => {
    const user = await signedIn();
    const wanted = `wanted-${user.id}@example.org`;
    await post('/api/v1/me/email', { newEmail: wanted, password: user.password }, user.auth);
    const first = tokenIn(await t.mailer.next(wanted, /Confirm your new/));
    await post('/api/v1/me/email', { newEmail: wanted, password: user.password }, user.auth);
    const second = tokenIn(await t.mailer.next(wanted, /Confirm your new/));
    // a newer link makes the older one worthless
    expect((await post('/api/v1/auth/email-change/confirm', { token: first })).statusCode).toBe(400);

    await t.createUser({ email: wanted });
    const res = await post('/api/v1/auth/email-change/confirm', { token: second });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('identity.email-taken');
    expect(await emailOf(user.id)).toBe(user.email);
    expect(await changeEvents(user.id)).toEqual([]);
  });
});
