import type { BenchScenario } from '../../platform/module.js';
import type { Clock, IdentityDb } from './context.js';
import { randomToken } from './crypto.js';
import { hashPassword } from './passwords.js';

/**
 * A verified, active learner with a fresh random password, inserted directly (like the seed) so no
 * mail round-trip is needed. The address is fixed and the row upserted, so repeated runs against
 * a persistent DATABASE_URL reuse one account instead of piling them up, and no password outlives
 * the run that chose it.
 */
async function benchAccount(db: IdentityDb, clock: Clock, email: string) {
  const password = `bench-${randomToken(18)}`;
  const passwordHash = await hashPassword(password);
  await db
    .insertInto('identity.users')
    .values({
      email,
      display_name: 'Bench User',
      password_hash: passwordHash,
      roles: ['learner'],
      email_verified_at: clock(),
    })
    .onConflict((oc) =>
      oc.column('email').doUpdateSet({
        password_hash: passwordHash,
        status: 'active',
        disabled_at: null,
        disabled_reason: null,
        email_verified_at: clock(),
        updated_at: clock(),
      }),
    )
    .execute();
  return { email, password };
}

/** Sign in once through the JSON endpoint: proves the request the bench repeats answers 200. */
async function signIn(baseUrl: string, body: string): Promise<string> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`login answered ${response.status}: ${text}`);
  const result = JSON.parse(text) as { status?: string; accessToken?: string };
  if (result.status !== 'authenticated' || !result.accessToken) {
    throw new Error(`login did not authenticate (an MFA-enabled bench account?): ${text}`);
  }
  return result.accessToken;
}

/**
 * Sign-in and the auth guard. Only failed logins are counted by the throttle (throttle.ts; a
 * success clears the account's counters), so hammering a correct password stays 200 without any
 * bench-only switch.
 */
export function identityBench(deps: { db: IdentityDb; clock: Clock }): BenchScenario[] {
  const { db, clock } = deps;
  return [
    {
      // bounded by argon2id on purpose (19 MiB, t=2, on libuv's thread pool); each login also
      // writes a session, a refresh token and an audit row
      name: 'login (argon2id-bound)',
      async prepare({ baseUrl }) {
        const { email, password } = await benchAccount(db, clock, 'bench-login@bench.lectern.invalid');
        const body = JSON.stringify({ email, password });
        await signIn(baseUrl, body);
        return { method: 'POST', path: '/api/v1/auth/login', body };
      },
    },
    {
      // the guard alone: EdDSA signature and claims, the deny-list lookups in the cache, no database
      name: 'auth guard token verification (GET /auth/token-info)',
      async prepare({ baseUrl }) {
        const { email, password } = await benchAccount(db, clock, 'bench-guard@bench.lectern.invalid');
        const headers = {
          authorization: `Bearer ${await signIn(baseUrl, JSON.stringify({ email, password }))}`,
        };
        const info = await fetch(`${baseUrl}/api/v1/auth/token-info`, { headers });
        if (info.status !== 200) throw new Error(`GET /api/v1/auth/token-info answered ${info.status}`);
        return { path: '/api/v1/auth/token-info', headers };
      },
    },
    {
      // GET /me: bearer check (EdDSA signature, claims), the deny-list lookups in the cache, then
      // the lightest guarded identity read (user row + MFA flag, two indexed queries)
      name: 'guarded profile read (GET /me)',
      async prepare({ baseUrl }) {
        const { email, password } = await benchAccount(db, clock, 'bench-guard@bench.lectern.invalid');
        const accessToken = await signIn(baseUrl, JSON.stringify({ email, password }));
        const headers = { authorization: `Bearer ${accessToken}` };
        const me = await fetch(`${baseUrl}/api/v1/me`, { headers });
        if (me.status !== 200) throw new Error(`GET /api/v1/me answered ${me.status}: ${await me.text()}`);
        return { path: '/api/v1/me', headers };
      },
    },
  ];
}
