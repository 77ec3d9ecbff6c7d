// The demo domain is reserved: sign-up, a change of address and provisioning from code refuse it;
// only the demo seed creates accounts there, and accounts made there before stay as they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingTables } from '../../platform/messaging/outbox.js';
import { internalMeta } from './context.js';
import { DEMO_EMAIL_DOMAIN, isDemoAddress } from './demo-domain.js';
import { type IdentityTestApp, startIdentityApp, tokenIn } from './identity.test-support.js';
import { DEMO_ACCOUNTS } from './seed/seed.js';
import { normalizeEmail } from './users.queries.js';

const RESERVED = 'identity.email-domain-reserved';

let t: IdentityTestApp;
let seedLines: string[] | undefined;
beforeAll(async () => {
  t = await startIdentityApp();
  // the seed only runs on an empty database: first
  seedLines = await t.identity.module.seed?.();
});
afterAll(async () => {
  await t.app.stop();
});

const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
  t.app.app.inject({ method: 'POST', url, payload, headers, remoteAddress: '10.60.0.1' });

const userByEmail = (email: string) =>
  t.identity.db
    .selectFrom('identity.users')
    .select(['id', 'email'])
    .where('email', '=', normalizeEmail(email))
    .executeTakeFirst();

const userCount = async () =>
  (await t.identity.db.selectFrom('identity.users').select('id').execute()).length;

const outboxCount = async () =>
  (await messagingTables(t.identity.db, 'identity').selectFrom('outbox').select('id').execute()).length;

const mailsTo = (email: string) => t.mailer.sent.filter((m) => m.to === normalizeEmail(email));

/** The refusal as a client sees it. */
function expectReserved(res: Awaited<ReturnType<typeof post>>, field: string) {
  expect(res.statusCode).toBe(400);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json()).toMatchObject({
    status: 400,
    code: RESERVED,
    type: `https://lectern.dev/problems/${RESERVED}`,
    detail: expect.stringContaining(DEMO_EMAIL_DOMAIN),
    fields: [{ field, message: expect.any(String) }],
  });
}

async function signedIn() {
  const user = await t.createUser();
  const { accessToken } = await t.login(user.email, user.password);
  return { ...user, auth: t.bearer(accessToken) };
}

describe('the demo seed', () => {
  it('still creates the demo accounts at the reserved domain, verified', async () => {
    expect(seedLines).toBeDefined();
    for (const account of DEMO_ACCOUNTS) {
      expect(account.email.endsWith(`@${DEMO_EMAIL_DOMAIN}`)).toBe(true);
      const found = await t.identity.api.findUserByEmail(account.email);
      expect(found).toMatchObject({ email: account.email, emailVerified: true });
      await t.login(account.email, account.password);
    }
  });
});

describe('signing up', () => {
  it.each([
    'x@demo.lectern.dev',
    'X@DEMO.LECTERN.DEV',
    'x@sub.demo.lectern.dev',
    // what NFKC folds: fullwidth and circled letters
    'x@ｄｅｍｏ.lectern.dev',
    'x@ⓓⓔⓜⓞ.lectern.dev',
    // what a mail system resolves to the same domain: IDNA's ideographic full stop, a
    // zero-width space, the trailing dot of a fully qualified name
    'x@demo。lectern.dev',
    'x@de\u200bmo.lectern.dev',
    'x@demo.lectern.dev.',
  ])('refuses %s: no account, no event, no mail', async (email) => {
    const [users, events] = [await userCount(), await outboxCount()];
    const res = await post('/api/v1/auth/register', {
      email,
      password: 'juniper-signal-4417',
      displayName: 'Not the demo',
    });
    expectReserved(res, '/body/email');
    expect(await userByEmail(email)).toBeUndefined();
    expect(await userCount()).toBe(users);
    expect(await outboxCount()).toBe(events);
    // identity hands a mail to the mailer before it answers: nothing was handed over
    expect(mailsTo(email)).toEqual([]);
  });

  it.each(['x@demo.lectern.dev.example.com', 'x@notdemo.lectern.dev', 'x@lectern.dev'])(
    'lets %s sign up: another domain',
    async (email) => {
      const res = await post('/api/v1/auth/register', {
        email,
        password: 'juniper-signal-4417',
        displayName: 'Someone else',
      });
      expect(res.statusCode).toBe(202);
      expect(await userByEmail(email)).toBeDefined();
      await t.mailer.next(email, /Confirm your/);
    },
  );
});

describe('changing the address', () => {
  it('refuses a new address at the demo domain before the password, and sends nothing', async () => {
    const user = await signedIn();
    for (const newEmail of ['someone@demo.lectern.dev', 'Someone@Sub.Demo.Lectern.Dev']) {
      const res = await post('/api/v1/me/email', { newEmail, password: user.password }, user.auth);
      expectReserved(res, '/body/newEmail');
      expect(mailsTo(newEmail)).toEqual([]);
    }
    // a wrong password gets the same static answer: the password is not looked at
    const wrong = await post(
      '/api/v1/me/email',
      { newEmail: 'someone@demo.lectern.dev', password: 'not-the-password-1' },
      user.auth,
    );
    expectReserved(wrong, '/body/newEmail');
    const links = await t.identity.db
      .selectFrom('identity.one_time_tokens')
      .select('id')
      .where('user_id', '=', user.id)
      .where('purpose', '=', 'change_email')
      .execute();
    expect(links).toEqual([]);
    expect(mailsTo(user.email)).toEqual([]);
    expect((await userByEmail(user.email))?.id).toBe(user.id);
  });

  it('refuses to confirm a link to the demo domain mailed before the rule, and moves nothing', async () => {
    const user = await signedIn();
    const asked = await post(
      '/api/v1/me/email',
      { newEmail: `moved-${user.id}@example.org`, password: user.password },
      user.auth,
    );
    expect(asked.statusCode).toBe(202);
    await t.mailer.next(user.email, /new email address was requested/);
    const token = tokenIn(await t.mailer.next(`moved-${user.id}@example.org`, /Confirm your new/));
    // as if the link had gone out to a demo address before the domain was reserved
    const target = `taken-${user.id}@demo.lectern.dev`;
    await t.identity.db
      .updateTable('identity.one_time_tokens')
      .set({ new_email: target })
      .where('user_id', '=', user.id)
      .where('purpose', '=', 'change_email')
      .execute();

    const events = await outboxCount();
    const res = await post('/api/v1/auth/email-change/confirm', { token });
    expectReserved(res, '/body/token');
    expect((await userByEmail(user.email))?.id).toBe(user.id);
    expect(await userByEmail(target)).toBeUndefined();
    expect(await outboxCount()).toBe(events);
    expect(mailsTo(user.email)).toEqual([]);
    await t.login(user.email, user.password);
  });
});

describe('accounts made from code', () => {
  const input = (email: string) => ({
    email,
    password: 'juniper-signal-4417',
    displayName: 'Operator made',
    roles: ['admin' as const],
  });

  it('refuses the demo domain to provision, the path an operator script takes', async () => {
    const users = await userCount();
    await expect(
      t.identity.accounts.provision(input('ops@Demo.Lectern.Dev'), internalMeta),
    ).rejects.toMatchObject({ kind: 'validation', code: RESERVED });
    expect(await userByEmail('ops@demo.lectern.dev')).toBeUndefined();
    expect(await userCount()).toBe(users);
    // other addresses are provisioned as before
    await t.identity.accounts.provision(input('ops@example.net'), internalMeta);
    expect(await userByEmail('ops@example.net')).toBeDefined();
  });

  it('lets the demo path create demo addresses only', async () => {
    await expect(t.identity.accounts.provisionDemo(input('ops@example.com'), internalMeta)).rejects.toThrow(
      /not a demo address/,
    );
    expect(await userByEmail('ops@example.com')).toBeUndefined();
  });
});

describe('accounts made before the rule', () => {
  it('stay as they are: they sign in and keep their address', async () => {
    const user = await t.createUser({ email: 'earlier@demo.lectern.dev' });
    const { accessToken } = await t.login(user.email, user.password);
    const me = await t.app.app.inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(accessToken) });
    expect(me.json()).toMatchObject({ id: user.id, email: user.email });
  });
});

describe('isDemoAddress', () => {
  it('sees the domain through case, NFKC, IDNA dots, invisible characters and trailing dots only', () => {
    for (const email of [
      'a@demo.lectern.dev',
      ' A@Demo.Lectern.Dev ',
      'a@x.y.demo.lectern.dev',
      'a@demo．lectern.dev',
      'a@demo｡lectern.dev',
      'a@de\u00admo.lectern.dev',
      'a@demo.lectern.dev\u202e',
      'a@demo.lectern.dev..',
    ]) {
      expect(isDemoAddress(email), email).toBe(true);
    }
    for (const email of [
      'a@example.com',
      'demo.lectern.dev@example.com',
      'a@notdemo.lectern.dev',
      'a@demo.lectern.dev.example.com',
      'a@demo-lectern.dev',
      'a@lectern.dev',
    ]) {
      expect(isDemoAddress(email), email).toBe(false);
    }
  });
});
