// Account-owner flows: registration, verification, sign-in, sessions, throttling, passwords and
// two-factor authentication. One app for all of them: starting an embedded database per file is
// most of a file's run time.
import type { InjectOptions } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingTables } from '../../platform/messaging/outbox.js';
import { epochSeconds } from './context.js';
import { type IdentityTestApp, startIdentityApp, tokenIn } from './identity.test-support.js';
import { THROTTLE_POLICY } from './throttle.js';
import { ACCESS_TOKEN_TTL_SECONDS } from './tokens.service.js';

let t: IdentityTestApp;
beforeAll(async () => {
  t = await startIdentityApp();
});
afterAll(async () => {
  await t.app.stop();
});

describe('registration, sign-in and sessions', () => {
  const inject = (options: InjectOptions) => t.app.app.inject(options);

  const post = (
    url: string,
    payload: object,
    headers: Record<string, string> = {},
    remoteAddress = '127.0.0.1',
  ) => inject({ method: 'POST', url, payload, headers, remoteAddress });

  /** The parts of a refusal a client can see, without per-request ids. */
  const visible = (res: Awaited<ReturnType<typeof post>>) => {
    const { requestId: _r, ...body } = res.json<Record<string, unknown>>();
    return { status: res.statusCode, contentType: res.headers['content-type'], body };
  };

  describe('registration and email verification', () => {
    it('registers, mails a single-use verification token, publishes the events, and verifies', async () => {
      const res = await post('/api/v1/auth/register', {
        email: '  Grace.Hopper@Example.COM ',
        password: 'cobol-compiler-1959',
        displayName: 'Grace Hopper',
      });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ status: 'accepted', message: expect.any(String) });

      // the address is normalised: trimmed and lower-cased
      const mail = await t.mailer.next('grace.hopper@example.com', /Confirm your/);
      const token = tokenIn(mail);
      expect(mail.text).toContain(`#token=${token}`);

      const verified = await post('/api/v1/auth/verify-email', { token });
      expect(verified.statusCode).toBe(200);
      expect(verified.json()).toMatchObject({
        email: 'grace.hopper@example.com',
        emailVerified: true,
        roles: ['learner'],
      });

      const again = await post('/api/v1/auth/verify-email', { token });
      expect(again.statusCode).toBe(400);
      expect(again.headers['content-type']).toContain('application/problem+json');
      expect(again.json().code).toBe('identity.token-invalid');

      const events = await messagingTables(t.identity.db, 'identity')
        .selectFrom('outbox')
        .select(['type', 'data'])
        .where('aggregate_id', '=', verified.json().id)
        .orderBy('seq')
        .execute();
      expect(events.map((e) => e.type)).toEqual(['identity.user.registered', 'identity.user.verified']);
      expect(JSON.stringify(events)).not.toContain('cobol-compiler');
    });

    it('answers a taken address exactly like a new one, creates nothing, and tells the owner', async () => {
      const owner = await t.createUser({ email: 'taken@example.com' });
      const before = await t.identity.db.selectFrom('identity.users').select('id').execute();

      const fresh = await post('/api/v1/auth/register', {
        email: 'brand-new@example.com',
        password: 'velvet-otter-canyon-3',
        displayName: 'New',
      });
      const duplicate = await post('/api/v1/auth/register', {
        email: 'TAKEN@example.com',
        password: 'velvet-otter-canyon-3',
        displayName: 'Impostor',
      });
      expect(duplicate.statusCode).toBe(fresh.statusCode);
      expect(duplicate.body).toBe(fresh.body);

      const after = await t.identity.db.selectFrom('identity.users').select(['id', 'display_name']).execute();
      expect(after).toHaveLength(before.length + 1);
      expect(after.find((u) => u.id === owner.id)?.display_name).toBe('Test User');
      await t.mailer.next('taken@example.com', /tried to create/);
      // the owner's password still works: nothing was overwritten
      await t.login(owner.email, owner.password);
    });

    it('refuses a weak password with a stable code and creates nothing', async () => {
      const res = await post('/api/v1/auth/register', {
        email: 'weak@example.com',
        password: 'iloveyou',
        displayName: 'Weak',
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json()).toMatchObject({
        code: 'identity.password-too-common',
        fields: [{ field: '/body/password', message: expect.any(String) }],
      });
      const short = await post('/api/v1/auth/register', {
        email: 'weak@example.com',
        password: 'abc',
        displayName: 'W',
      });
      expect(short.json().code).toBe('identity.password-too-short');
      const user = await t.identity.db
        .selectFrom('identity.users')
        .select('id')
        .where('email', '=', 'weak@example.com')
        .execute();
      expect(user).toEqual([]);
    });

    it('validates input as problem+json, never 500', async () => {
      const res = await post('/api/v1/auth/register', { email: 'not-an-email', password: 'x'.repeat(20) });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toBe('request.invalid');
      const fields = (res.json().fields as { field: string }[]).map((f) => f.field);
      expect(fields).toEqual(expect.arrayContaining(['/body/email', '/body/displayName']));
      const garbage = await inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: '{"email":',
        headers: { 'content-type': 'application/json' },
      });
      expect(garbage.statusCode).toBe(400);
    });

    it('expires verification tokens and lets the user ask for a new one (same answer for strangers)', async () => {
      await post('/api/v1/auth/register', {
        email: 'slow@example.com',
        password: 'quiet-meadow-lantern',
        displayName: 'Slow',
      });
      const first = tokenIn(await t.mailer.next('slow@example.com', /Confirm/));
      t.clock.advance(24 * 3600 + 1);
      const expired = await post('/api/v1/auth/verify-email', { token: first });
      expect(expired.statusCode).toBe(400);
      expect(expired.json().code).toBe('identity.token-expired');

      const resend = await post('/api/v1/auth/verify-email/resend', { email: 'slow@example.com' });
      const stranger = await post('/api/v1/auth/verify-email/resend', { email: 'nobody-here@example.com' });
      expect(resend.statusCode).toBe(202);
      expect(stranger.body).toBe(resend.body);
      const second = tokenIn(await t.mailer.next('slow@example.com', /Confirm/));
      expect((await post('/api/v1/auth/verify-email', { token: second })).statusCode).toBe(200);
    });
  });

  describe('login, refresh, logout', () => {
    it('logs in and reads the profile with the access token', async () => {
      const user = await t.createUser();
      const tokens = await t.login(user.email.toUpperCase(), user.password);
      const me = await inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(tokens.accessToken) });
      expect(me.statusCode).toBe(200);
      expect(me.json()).toMatchObject({ id: user.id, email: user.email, mfaEnabled: false });
      expect(me.headers['cache-control']).toBe('no-store');
      expect(JSON.stringify(me.json())).not.toContain('password');
    });

    it('publishes a new-device event for a sign-in from a user agent the account never used, not for the first or a known one', async () => {
      const user = await t.createUser();
      const signIn = async (userAgent: string, ip: string) => {
        const res = await post(
          '/api/v1/auth/login',
          { email: user.email, password: user.password },
          { 'user-agent': userAgent },
          ip,
        );
        expect(res.statusCode).toBe(200);
      };
      const phone = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)';
      const laptop = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0';
      await signIn(laptop, '198.51.100.4'); // the first sign-in: nothing to compare with
      await signIn(laptop, '198.51.100.9'); // known device, another address
      await signIn(phone, '203.0.113.7'); // new
      await signIn(phone, '203.0.113.7'); // known now
      await signIn('curl/8.5.0', '203.0.113.8');
      await signIn('curl/8.5.0', '203.0.113.8');
      const events = await messagingTables(t.identity.db, 'identity')
        .selectFrom('outbox')
        .select(['type', 'data'])
        .where('type', '=', 'identity.session.new_device')
        .where('aggregate_id', '=', user.id)
        .orderBy('seq')
        .execute();
      expect(events.map((e) => e.data)).toEqual([
        {
          userId: user.id,
          sessionId: expect.any(String),
          userAgent: phone,
          ip: '203.0.113.7',
          at: expect.any(String),
        },
        {
          userId: user.id,
          sessionId: expect.any(String),
          userAgent: 'curl/8.5.0',
          ip: '203.0.113.8',
          at: expect.any(String),
        },
      ]);
      // the event names the session it is about
      const named = await t.identity.db
        .selectFrom('identity.sessions')
        .select('user_agent')
        .where('id', '=', (events[0]?.data as { sessionId: string }).sessionId)
        .executeTakeFirst();
      expect(named?.user_agent).toBe(phone);
    });

    it('updates the profile and refuses blank or control-character names, changing nothing', async () => {
      const user = await t.createUser();
      const auth = t.bearer((await t.login(user.email, user.password)).accessToken);
      const patch = (payload: object) =>
        inject({ method: 'PATCH', url: '/api/v1/me', payload, headers: auth });
      const ok = await patch({ displayName: '  Ada King  ' });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ displayName: 'Ada King', email: user.email });
      for (const displayName of ['', '   ', 'Ada\u0000King', 'Ada\nKing', 'x'.repeat(81)]) {
        const res = await patch({ displayName });
        expect(res.statusCode).toBe(400);
        expect(res.json().fields[0].field).toBe('/body/displayName');
      }
      // fields that are not the caller's to set are refused by name, and nothing changes
      const sneaky = await patch({ roles: ['admin'], email: 'other@example.com', status: 'disabled' });
      expect(sneaky.statusCode).toBe(400);
      const refused = sneaky.json<{ fields: { field: string }[] }>().fields.map((f) => f.field);
      expect(refused).toContain('/body/roles');
      const after = await patch({ displayName: 'Ada King' });
      expect(after.json()).toMatchObject({
        displayName: 'Ada King',
        email: user.email,
        roles: ['learner'],
        status: 'active',
      });
    });

    it('refuses NUL characters anywhere they would reach the database (400, not 500)', async () => {
      const cases = [
        {
          url: '/api/v1/auth/register',
          payload: { email: 'nul\u0000@example.com', password: 'velvet-otter-canyon-3', displayName: 'N' },
        },
        {
          url: '/api/v1/auth/register',
          payload: { email: 'nul@example.com', password: 'velvet-otter-canyon-3', displayName: 'N\u0000' },
        },
        {
          url: '/api/v1/auth/login',
          payload: { email: 'nul\u0000@example.com', password: 'whatever-it-is' },
        },
        { url: '/api/v1/auth/password-reset/request', payload: { email: 'nul\u0000@example.com' } },
      ];
      for (const c of cases) {
        const res = await inject({ method: 'POST', url: c.url, payload: c.payload });
        expect(res.statusCode).toBe(400);
        expect(res.headers['content-type']).toContain('application/problem+json');
      }
    });

    it('gives the same answer for an unknown address and a wrong password, with similar timing', async () => {
      const user = await t.createUser();
      const unknown: ReturnType<typeof visible>[] = [];
      const wrong: ReturnType<typeof visible>[] = [];
      const times = { unknown: [] as number[], wrong: [] as number[] };
      for (let i = 0; i < 3; i++) {
        let start = performance.now();
        const a = await post(
          '/api/v1/auth/login',
          { email: `ghost-${i}@example.com`, password: 'whatever-it-is' },
          {},
          `10.1.0.${i}`,
        );
        times.unknown.push(performance.now() - start);
        start = performance.now();
        const b = await post(
          '/api/v1/auth/login',
          { email: user.email, password: `wrong-password-${i}` },
          {},
          `10.2.0.${i}`,
        );
        times.wrong.push(performance.now() - start);
        unknown.push(visible(a));
        wrong.push(visible(b));
      }
      expect(unknown[0]).toEqual(wrong[0]);
      expect(unknown[0]).toMatchObject({ status: 401, body: { code: 'identity.invalid-credentials' } });
      const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[1]!;
      // both paths pay for one argon2id verification; without the dummy hash "unknown" is ~0 ms
      expect(median(times.unknown)).toBeGreaterThan(median(times.wrong) * 0.4);

      const audit = await t.identity.db
        .selectFrom('identity.audit_events')
        .select(['type', 'user_id', 'ip', 'details'])
        .where('type', '=', 'login.failed')
        .where('ip', 'like', '10.%')
        .execute();
      expect(audit.filter((a) => a.user_id === user.id)).toHaveLength(3);
      expect(audit.filter((a) => a.user_id === null)).toHaveLength(3);
    });

    it('rotates the refresh token on every use', async () => {
      const user = await t.createUser();
      const first = await t.login(user.email, user.password);
      const r1 = await post('/api/v1/auth/refresh', { refreshToken: first.refreshToken });
      expect(r1.statusCode).toBe(200);
      expect(r1.headers['cache-control']).toBe('no-store');
      const second = r1.json<{ accessToken: string; refreshToken: string }>();
      expect(second.refreshToken).not.toBe(first.refreshToken);
      const r2 = await post('/api/v1/auth/refresh', { refreshToken: second.refreshToken });
      expect(r2.statusCode).toBe(200);
      const me = await inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(r2.json().accessToken) });
      expect(me.statusCode).toBe(200);
      // stored as sha256 only
      const stored = await t.identity.db.selectFrom('identity.refresh_tokens').select('token_hash').execute();
      expect(stored.map((s) => s.token_hash)).not.toContain(first.refreshToken);
    });

    it('revokes the whole family when a spent refresh token is presented again', async () => {
      const user = await t.createUser();
      const first = await t.login(user.email, user.password);
      const rotated = (await post('/api/v1/auth/refresh', { refreshToken: first.refreshToken })).json();

      const replay = await post('/api/v1/auth/refresh', { refreshToken: first.refreshToken });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().code).toBe('identity.refresh-token-reused');

      // the legitimate holder's newer token is dead too, and so is the access token of that family
      const newer = await post('/api/v1/auth/refresh', { refreshToken: rotated.refreshToken });
      expect(newer.statusCode).toBe(401);
      expect(newer.json().code).toBe('identity.refresh-token-invalid');
      const me = await inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(rotated.accessToken) });
      expect(me.statusCode).toBe(401);
      expect(me.json().code).toBe('auth.token-revoked');

      const audit = await t.identity.db
        .selectFrom('identity.audit_events')
        .select('details')
        .where('type', '=', 'token_family.revoked')
        .where('user_id', '=', user.id)
        .execute();
      expect(audit).toEqual([{ details: expect.objectContaining({ reason: 'refresh_token_reused' }) }]);

      // another sign-in of the same user is a different family and keeps working
      const other = await t.login(user.email, user.password);
      expect((await post('/api/v1/auth/refresh', { refreshToken: other.refreshToken })).statusCode).toBe(200);
    });

    it('lets exactly one of two concurrent refreshes with one token win', async () => {
      const user = await t.createUser();
      const { refreshToken } = await t.login(user.email, user.password);
      const results = await Promise.all([
        post('/api/v1/auth/refresh', { refreshToken }),
        post('/api/v1/auth/refresh', { refreshToken }),
      ]);
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 401]);
    });

    it('logs out by access token or by refresh token, revoking the family', async () => {
      const user = await t.createUser();
      const a = await t.login(user.email, user.password);
      const out = await post('/api/v1/auth/logout', {}, t.bearer(a.accessToken));
      expect(out.statusCode).toBe(204);
      expect((await post('/api/v1/auth/refresh', { refreshToken: a.refreshToken })).statusCode).toBe(401);
      expect(
        (await inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(a.accessToken) })).statusCode,
      ).toBe(401);

      const b = await t.login(user.email, user.password);
      expect((await post('/api/v1/auth/logout', { refreshToken: b.refreshToken })).statusCode).toBe(204);
      expect((await post('/api/v1/auth/refresh', { refreshToken: b.refreshToken })).statusCode).toBe(401);

      // an expired access token sent along does not stand in the way of signing out
      const c = await t.login(user.email, user.password);
      t.clock.advance(-(ACCESS_TOKEN_TTL_SECONDS + 60));
      const stale = (await t.identity.keys.sign(user.id, { roles: ['learner'] })).token;
      t.clock.advance(ACCESS_TOKEN_TTL_SECONDS + 60);
      const withStale = await post('/api/v1/auth/logout', { refreshToken: c.refreshToken }, t.bearer(stale));
      expect(withStale.statusCode).toBe(204);
      expect((await post('/api/v1/auth/refresh', { refreshToken: c.refreshToken })).statusCode).toBe(401);

      const neither = await post('/api/v1/auth/logout', {});
      expect(neither.statusCode).toBe(400);
      expect(neither.json().code).toBe('identity.logout-needs-token');
    });

    it('refuses a refresh token that has passed its idle lifetime', async () => {
      const user = await t.createUser();
      const { refreshToken } = await t.login(user.email, user.password);
      t.clock.advance(14 * 86400 + 1);
      const res = await post('/api/v1/auth/refresh', { refreshToken });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('identity.refresh-token-invalid');
    });
  });

  describe('login throttling', () => {
    const { threshold, baseSeconds } = THROTTLE_POLICY.account;

    it('locks an account after repeated failures with a growing, capped delay that expires', async () => {
      const user = await t.createUser();
      const attacker = '198.51.100.7';
      for (let i = 0; i < threshold; i++) {
        const res = await post(
          '/api/v1/auth/login',
          { email: user.email, password: `guess-${i}-guess` },
          {},
          attacker,
        );
        expect(res.statusCode).toBe(401);
      }
      // locked now: even the right password from a new place is refused, with Retry-After
      const locked = await post(
        '/api/v1/auth/login',
        { email: user.email, password: user.password },
        {},
        '198.51.100.8',
      );
      expect(locked.statusCode).toBe(429);
      expect(locked.json().code).toBe('identity.login-throttled');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(baseSeconds);

      t.clock.advance(baseSeconds + 1);
      // one more failure doubles the lock
      await post('/api/v1/auth/login', { email: user.email, password: 'guess-again-again' }, {}, attacker);
      const doubled = await post(
        '/api/v1/auth/login',
        { email: user.email, password: user.password },
        {},
        '198.51.100.8',
      );
      expect(doubled.statusCode).toBe(429);
      expect(Number(doubled.headers['retry-after'])).toBeGreaterThan(baseSeconds);

      t.clock.advance(2 * baseSeconds + 1);
      const ok = await post(
        '/api/v1/auth/login',
        { email: user.email, password: user.password },
        {},
        '198.51.100.8',
      );
      expect(ok.statusCode).toBe(200);

      const throttled = await t.identity.db
        .selectFrom('identity.audit_events')
        .select('type')
        .where('type', '=', 'login.throttled')
        .where('ip', '=', '198.51.100.8')
        .execute();
      expect(throttled.length).toBeGreaterThanOrEqual(2);
    });

    it('does not let strangers lock the owner out of a network they signed in from before', async () => {
      const user = await t.createUser();
      const home = '192.0.2.10';
      await t.login(user.email, user.password, home);
      for (let i = 0; i < threshold + 2; i++) {
        await post(
          '/api/v1/auth/login',
          { email: user.email, password: `attack-${i}-attack` },
          {},
          `203.0.113.${i}`,
        );
      }
      const stranger = await post(
        '/api/v1/auth/login',
        { email: user.email, password: user.password },
        {},
        '203.0.113.200',
      );
      expect(stranger.statusCode).toBe(429);
      const owner = await post(
        '/api/v1/auth/login',
        { email: user.email, password: user.password },
        {},
        home,
      );
      expect(owner.statusCode).toBe(200);
    });

    it('treats an unknown address like a real one (no enumeration through the lock)', async () => {
      const ip = '198.51.100.50';
      for (let i = 0; i < threshold; i++) {
        await post(
          '/api/v1/auth/login',
          { email: 'no-account@example.com', password: `guess-${i}-guess` },
          {},
          ip,
        );
      }
      const res = await post(
        '/api/v1/auth/login',
        { email: 'no-account@example.com', password: 'guess-x-guess' },
        {},
        ip,
      );
      expect(res.statusCode).toBe(429);
    });

    it('throttles one IP spraying many accounts', async () => {
      const ip = '198.51.100.99';
      const { threshold: ipThreshold } = THROTTLE_POLICY.ip;
      for (let i = 0; i < ipThreshold; i++) {
        const res = await post(
          '/api/v1/auth/login',
          { email: `spray-${i}@example.com`, password: 'summer-2024-spray' },
          {},
          ip,
        );
        expect(res.statusCode).toBe(401);
      }
      const res = await post(
        '/api/v1/auth/login',
        { email: 'spray-last@example.com', password: 'summer-2024-spray' },
        {},
        ip,
      );
      expect(res.statusCode).toBe(429);
      // another IP is unaffected
      const other = await post(
        '/api/v1/auth/login',
        { email: 'spray-last@example.com', password: 'summer-2024-spray' },
        {},
        '198.51.100.98',
      );
      expect(other.statusCode).toBe(401);
    });
  });
});

describe('passwords', () => {
  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    t.app.app.inject({ method: 'POST', url, payload, headers, remoteAddress: '10.20.0.1' });
  const me = (accessToken: string) =>
    t.app.app.inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(accessToken) });

  describe('password change', () => {
    it('needs the current password, applies the policy, and revokes the other sessions only', async () => {
      const user = await t.createUser();
      const here = await t.login(user.email, user.password);
      const elsewhere = await t.login(user.email, user.password);

      const wrong = await post(
        '/api/v1/me/password',
        { currentPassword: 'not-the-password', newPassword: 'granite-sparrow-204' },
        t.bearer(here.accessToken),
      );
      expect(wrong.statusCode).toBe(403);
      expect(wrong.json().code).toBe('identity.current-password-incorrect');

      const weak = await post(
        '/api/v1/me/password',
        { currentPassword: user.password, newPassword: 'qwertyuiop' },
        t.bearer(here.accessToken),
      );
      expect(weak.statusCode).toBe(400);
      expect(weak.json()).toMatchObject({
        code: 'identity.password-too-common',
        fields: [{ field: '/body/newPassword' }],
      });
      // nothing changed by the refusals
      await t.login(user.email, user.password);

      const ok = await post(
        '/api/v1/me/password',
        { currentPassword: user.password, newPassword: 'granite-sparrow-204' },
        t.bearer(here.accessToken),
      );
      expect(ok.statusCode).toBe(200);
      expect(ok.json().otherSessionsRevoked).toBe(2);

      expect((await me(here.accessToken)).statusCode).toBe(200);
      expect((await post('/api/v1/auth/refresh', { refreshToken: here.refreshToken })).statusCode).toBe(200);
      expect((await me(elsewhere.accessToken)).statusCode).toBe(401);
      expect((await post('/api/v1/auth/refresh', { refreshToken: elsewhere.refreshToken })).statusCode).toBe(
        401,
      );

      expect(
        (await post('/api/v1/auth/login', { email: user.email, password: user.password })).statusCode,
      ).toBe(401);
      await t.login(user.email, 'granite-sparrow-204');
      await t.mailer.next(user.email, /password was changed/);
      const audit = await t.identity.db
        .selectFrom('identity.audit_events')
        .select('type')
        .where('user_id', '=', user.id)
        .where('type', '=', 'password.changed')
        .execute();
      expect(audit).toHaveLength(1);
    });

    it('refuses anonymous callers', async () => {
      const res = await post('/api/v1/me/password', { currentPassword: 'a', newPassword: 'b' });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });
  });

  describe('password reset', () => {
    it('answers every address the same and mails only real, active accounts', async () => {
      const user = await t.createUser();
      const known = await post('/api/v1/auth/password-reset/request', { email: user.email });
      const unknown = await post('/api/v1/auth/password-reset/request', { email: 'nobody@example.com' });
      expect(known.statusCode).toBe(202);
      expect(unknown.statusCode).toBe(202);
      expect(unknown.body).toBe(known.body);
      await t.mailer.next(user.email, /Reset your/);
      await t.identity.mail.drain();
      expect(t.mailer.sent.find((m) => m.to === 'nobody@example.com')).toBeUndefined();

      const events = await messagingTables(t.identity.db, 'identity')
        .selectFrom('outbox')
        .select(['type', 'data'])
        .where('type', '=', 'identity.password.reset_requested')
        .where('aggregate_id', '=', user.id)
        .execute();
      expect(events).toHaveLength(1);
      expect(events[0]?.data).toMatchObject({
        userId: user.id,
        email: user.email,
        expiresAt: expect.any(String),
      });
    });

    it('resets with a single-use token, revokes every session, and keeps the old password dead', async () => {
      const user = await t.createUser();
      const session = await t.login(user.email, user.password);
      await post('/api/v1/auth/password-reset/request', { email: user.email });
      const token = tokenIn(await t.mailer.next(user.email, /Reset your/));

      // a refused new password leaves the token usable
      const weak = await post('/api/v1/auth/password-reset/confirm', { token, newPassword: 'password123' });
      expect(weak.statusCode).toBe(400);
      expect(weak.json().code).toBe('identity.password-too-common');

      const ok = await post('/api/v1/auth/password-reset/confirm', {
        token,
        newPassword: 'harbor-lights-at-dusk',
      });
      expect(ok.statusCode).toBe(204);
      const reused = await post('/api/v1/auth/password-reset/confirm', {
        token,
        newPassword: 'another-fine-phrase',
      });
      expect(reused.statusCode).toBe(400);
      expect(reused.json().code).toBe('identity.token-invalid');

      expect((await me(session.accessToken)).statusCode).toBe(401);
      expect((await post('/api/v1/auth/refresh', { refreshToken: session.refreshToken })).statusCode).toBe(
        401,
      );
      expect(
        (await post('/api/v1/auth/login', { email: user.email, password: user.password })).statusCode,
      ).toBe(401);
      await t.login(user.email, 'harbor-lights-at-dusk');
    });

    it('expires tokens after 30 minutes (by the injected clock) and a newer link voids older ones', async () => {
      const early = await t.createUser();
      const late = await t.createUser();
      await post('/api/v1/auth/password-reset/request', { email: late.email });
      const old = tokenIn(await t.mailer.next(late.email, /Reset your/));
      await post('/api/v1/auth/password-reset/request', { email: late.email });
      const fresh = tokenIn(await t.mailer.next(late.email, /Reset your/));
      await post('/api/v1/auth/password-reset/request', { email: early.email });
      const earlyToken = tokenIn(await t.mailer.next(early.email, /Reset your/));

      const voided = await post('/api/v1/auth/password-reset/confirm', {
        token: old,
        newPassword: 'harbor-lights-at-dusk',
      });
      expect(voided.statusCode).toBe(400);
      expect(voided.json().code).toBe('identity.token-invalid');

      t.clock.advance(29 * 60);
      const inTime = await post('/api/v1/auth/password-reset/confirm', {
        token: earlyToken,
        newPassword: 'harbor-lights-at-dusk',
      });
      expect(inTime.statusCode).toBe(204);

      t.clock.advance(60 + 1);
      const expired = await post('/api/v1/auth/password-reset/confirm', {
        token: fresh,
        newPassword: 'harbor-lights-at-dusk',
      });
      expect(expired.statusCode).toBe(400);
      expect(expired.json().code).toBe('identity.token-expired');
      await t.login(late.email, late.password);
    });

    it('refuses tokens it never issued and verification tokens used as reset tokens', async () => {
      const bogus = await post('/api/v1/auth/password-reset/confirm', {
        token: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        newPassword: 'harbor-lights-at-dusk',
      });
      expect(bogus.statusCode).toBe(400);
      expect(bogus.json().code).toBe('identity.token-invalid');

      await post('/api/v1/auth/register', {
        email: 'crossover@example.com',
        password: 'lemon-tree-garden-8',
        displayName: 'X',
      });
      const verifyToken = tokenIn(await t.mailer.next('crossover@example.com', /Confirm/));
      const crossed = await post('/api/v1/auth/password-reset/confirm', {
        token: verifyToken,
        newPassword: 'harbor-lights-at-dusk',
      });
      expect(crossed.statusCode).toBe(400);
      expect(crossed.json().code).toBe('identity.token-invalid');
    });

    it('limits reset mails per address per hour without changing the answer', async () => {
      const user = await t.createUser();
      const answers = new Set<string>();
      for (let i = 0; i < 5; i++)
        answers.add((await post('/api/v1/auth/password-reset/request', { email: user.email })).body);
      expect(answers.size).toBe(1);
      await t.identity.mail.drain();
      expect(t.mailer.sent.filter((m) => m.to === user.email && /Reset your/.test(m.subject))).toHaveLength(
        3,
      );
    });
  });
});

describe('two-factor authentication', () => {
  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    t.app.app.inject({ method: 'POST', url, payload, headers, remoteAddress: '10.30.0.1' });
  /** The code an authenticator app shows at the test clock's "now". */
  const codeNow = (secret: string) => generate({ secret, epoch: epochSeconds(t.clock()) });

  /** Move to the start of the next 30 s step, so a fresh code differs from the last one. */
  const nextStep = () => {
    const now = epochSeconds(t.clock());
    t.clock.advance(30 - (now % 30));
  };

  async function enrolledUser() {
    const user = await t.createUser();
    const { accessToken } = await t.login(user.email, user.password);
    const enrol = await post(
      '/api/v1/me/mfa/totp/enroll',
      { password: user.password },
      t.bearer(accessToken),
    );
    expect(enrol.statusCode).toBe(200);
    const { secret } = enrol.json<{ secret: string }>();
    const confirm = await post(
      '/api/v1/me/mfa/totp/confirm',
      { code: await codeNow(secret) },
      t.bearer(accessToken),
    );
    expect(confirm.statusCode).toBe(200);
    const { recoveryCodes } = confirm.json<{ recoveryCodes: string[] }>();
    nextStep();
    return { ...user, secret, recoveryCodes, accessToken };
  }

  async function challenge(email: string, password: string) {
    const res = await post('/api/v1/auth/login', { email, password });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ status: string; mfaToken: string }>();
    expect(body.status).toBe('mfa_required');
    return body.mfaToken;
  }

  describe('TOTP enrolment', () => {
    it('needs the password, returns an otpauth URI, and turns on only after a correct code', async () => {
      const user = await t.createUser({ email: 'qr@example.com' });
      const { accessToken } = await t.login(user.email, user.password);
      const auth = t.bearer(accessToken);

      const noPassword = await post('/api/v1/me/mfa/totp/enroll', { password: 'wrong-password-here' }, auth);
      expect(noPassword.statusCode).toBe(403);
      expect(noPassword.json().code).toBe('identity.reauthentication-failed');

      const enrol = await post('/api/v1/me/mfa/totp/enroll', { password: user.password }, auth);
      const { secret, otpauthUri } = enrol.json<{ secret: string; otpauthUri: string }>();
      const uri = new URL(otpauthUri);
      expect(uri.protocol).toBe('otpauth:');
      expect(uri.host).toBe('totp');
      expect(decodeURIComponent(uri.pathname)).toBe('/Lectern:qr@example.com');
      expect(uri.searchParams.get('secret')).toBe(secret);
      expect(uri.searchParams.get('issuer')).toBe('Lectern');

      // stored sealed, not as the base32 secret
      const row = await t.identity.db.selectFrom('identity.totp').select('secret').executeTakeFirstOrThrow();
      expect(row.secret.startsWith('v1.')).toBe(true);
      expect(row.secret).not.toContain(secret);

      const status = await t.app.app.inject({ method: 'GET', url: '/api/v1/me/mfa', headers: auth });
      expect(status.json()).toEqual({
        totpEnabled: false,
        enrolmentPending: true,
        recoveryCodesRemaining: 0,
      });
      // an enrolment not yet confirmed is no second factor on the profile either
      const mePending = await t.app.app.inject({ method: 'GET', url: '/api/v1/me', headers: auth });
      expect(mePending.json()).toMatchObject({ id: user.id, mfaEnabled: false });

      const bad = await post(
        '/api/v1/me/mfa/totp/confirm',
        { code: '000000' === (await codeNow(secret)) ? '111111' : '000000' },
        auth,
      );
      expect(bad.statusCode).toBe(400);
      expect(bad.json().code).toBe('identity.mfa-code-invalid');

      const ok = await post('/api/v1/me/mfa/totp/confirm', { code: await codeNow(secret) }, auth);
      expect(ok.statusCode).toBe(200);
      const codes = ok.json<{ recoveryCodes: string[] }>().recoveryCodes;
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      const stored = await t.identity.db.selectFrom('identity.recovery_codes').select('code_hash').execute();
      expect(stored.map((s) => s.code_hash)).not.toContain(codes[0]);

      const after = await t.app.app.inject({ method: 'GET', url: '/api/v1/me/mfa', headers: auth });
      expect(after.json()).toEqual({
        totpEnabled: true,
        enrolmentPending: false,
        recoveryCodesRemaining: 10,
      });
      const meAfter = await t.app.app.inject({ method: 'GET', url: '/api/v1/me', headers: auth });
      expect(meAfter.json()).toMatchObject({ id: user.id, email: 'qr@example.com', mfaEnabled: true });
      const again = await post('/api/v1/me/mfa/totp/enroll', { password: user.password }, auth);
      expect(again.statusCode).toBe(409);
    });
  });

  describe('login step-up', () => {
    it('asks for a second factor and completes with a TOTP code', async () => {
      const user = await enrolledUser();
      const mfaToken = await challenge(user.email, user.password);
      const done = await post('/api/v1/auth/login/mfa', { mfaToken, code: await codeNow(user.secret) });
      expect(done.statusCode).toBe(200);
      const me = await t.app.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: t.bearer(done.json().accessToken),
      });
      expect(me.json().mfaEnabled).toBe(true);
      // the challenge is single-use
      nextStep();
      const reuse = await post('/api/v1/auth/login/mfa', { mfaToken, code: await codeNow(user.secret) });
      expect(reuse.statusCode).toBe(401);
      expect(reuse.json().code).toBe('identity.mfa-challenge-invalid');
    });

    it('refuses a TOTP code replayed within its window, and accepts the next step’s code', async () => {
      const user = await enrolledUser();
      const code = await codeNow(user.secret);
      const first = await post('/api/v1/auth/login/mfa', {
        mfaToken: await challenge(user.email, user.password),
        code,
      });
      expect(first.statusCode).toBe(200);

      // same code, still inside its 30 s step and the ±1 step tolerance
      const replay = await post('/api/v1/auth/login/mfa', {
        mfaToken: await challenge(user.email, user.password),
        code,
      });
      expect(replay.statusCode).toBe(400);
      expect(replay.json().code).toBe('identity.mfa-code-invalid');

      nextStep();
      const next = await post('/api/v1/auth/login/mfa', {
        mfaToken: await challenge(user.email, user.password),
        code: await codeNow(user.secret),
      });
      expect(next.statusCode).toBe(200);
      const row = await t.identity.db
        .selectFrom('identity.totp')
        .select('last_used_step')
        .where('user_id', '=', user.id)
        .executeTakeFirstOrThrow();
      expect(row.last_used_step).toBe(Math.floor(epochSeconds(t.clock()) / 30));
    });

    it('accepts each recovery code once', async () => {
      const user = await enrolledUser();
      const recoveryCode = user.recoveryCodes[0]!.toUpperCase();
      const ok = await post('/api/v1/auth/login/mfa', {
        mfaToken: await challenge(user.email, user.password),
        recoveryCode,
      });
      expect(ok.statusCode).toBe(200);
      const again = await post('/api/v1/auth/login/mfa', {
        mfaToken: await challenge(user.email, user.password),
        recoveryCode,
      });
      expect(again.statusCode).toBe(400);
      expect(again.json().code).toBe('identity.mfa-code-invalid');
      const status = await t.app.app.inject({
        method: 'GET',
        url: '/api/v1/me/mfa',
        headers: t.bearer(ok.json().accessToken),
      });
      expect(status.json().recoveryCodesRemaining).toBe(9);
    });

    it('gives up a challenge after five wrong codes, and counts them against the account', async () => {
      const user = await enrolledUser();
      const mfaToken = await challenge(user.email, user.password);
      const wrong = (await codeNow(user.secret)) === '123456' ? '654321' : '123456';
      for (let i = 0; i < 5; i++) {
        const res = await post('/api/v1/auth/login/mfa', { mfaToken, code: wrong });
        expect(res.statusCode).toBe(400);
      }
      const sixth = await post('/api/v1/auth/login/mfa', { mfaToken, code: await codeNow(user.secret) });
      expect(sixth.statusCode).toBe(401);
      expect(sixth.json().code).toBe('identity.mfa-challenge-invalid');
      // five second-factor failures lock the account like five wrong passwords would
      const locked = await post('/api/v1/auth/login', { email: user.email, password: user.password });
      expect(locked.statusCode).toBe(429);
    });
  });

  describe('turning MFA off and new recovery codes', () => {
    it('needs re-authentication: a wrong password is refused, a current code works', async () => {
      const user = await enrolledUser();
      const auth = t.bearer(user.accessToken);
      const none = await post('/api/v1/me/mfa/totp/disable', {}, auth);
      expect(none.statusCode).toBe(400);
      expect(none.json().code).toBe('identity.reauthentication-required');
      const wrong = await post('/api/v1/me/mfa/totp/disable', { password: 'not-my-password' }, auth);
      expect(wrong.statusCode).toBe(403);

      const fresh = await post('/api/v1/me/mfa/recovery-codes', { password: user.password }, auth);
      expect(fresh.statusCode).toBe(200);
      const newCodes = fresh.json<{ recoveryCodes: string[] }>().recoveryCodes;
      expect(newCodes).toHaveLength(10);
      // the old set is gone
      const old = await post('/api/v1/auth/login/mfa', {
        mfaToken: await challenge(user.email, user.password),
        recoveryCode: user.recoveryCodes[1]!,
      });
      expect(old.statusCode).toBe(400);

      const off = await post('/api/v1/me/mfa/totp/disable', { code: await codeNow(user.secret) }, auth);
      expect(off.statusCode).toBe(204);
      const login = await post('/api/v1/auth/login', { email: user.email, password: user.password });
      expect(login.json().status).toBe('authenticated');

      const audit = await t.identity.db
        .selectFrom('identity.audit_events')
        .select('type')
        .where('user_id', '=', user.id)
        .where('type', 'in', ['mfa.enabled', 'mfa.disabled', 'mfa.recovery_codes_regenerated'])
        .orderBy('occurred_at')
        .execute();
      expect(audit.map((a) => a.type)).toEqual([
        'mfa.enabled',
        'mfa.recovery_codes_regenerated',
        'mfa.disabled',
      ]);
    });

    it('works with a password too, and refuses when MFA is already off', async () => {
      const user = await enrolledUser();
      const auth = t.bearer(user.accessToken);
      expect((await post('/api/v1/me/mfa/totp/disable', { password: user.password }, auth)).statusCode).toBe(
        204,
      );
      const again = await post('/api/v1/me/mfa/totp/disable', { password: user.password }, auth);
      expect(again.statusCode).toBe(409);
      expect(again.json().code).toBe('identity.mfa-not-enabled');
    });
  });
});

describe('logging', () => {
  it('never writes a password, token, code or reset link to the log', () => {
    const text = t.logs.join('');
    // the log is really captured: without lines this test could not fail
    expect(t.logs.length).toBeGreaterThan(100);
    expect(text).toContain('incoming request');
    for (const password of [
      'cobol-compiler-1959',
      'plum-harbour-kettle-91',
      'granite-sparrow-204',
      'harbor-lights-at-dusk',
    ]) {
      expect(text).not.toContain(password);
    }
    expect(text).not.toMatch(/rt_[A-Za-z0-9_-]{20,}/);
    expect(text).not.toMatch(/mfa_[A-Za-z0-9_-]{20,}/);
    expect(text).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+/);
    expect(text).not.toContain('#token=');
    expect(text).not.toContain('otpauth://');
  });
});
