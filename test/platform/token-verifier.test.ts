import type { JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/errors.js';
import { createTokenVerifier, type KeySource, type Principal } from '../../src/platform/http/auth.js';
import type { LecternModule } from '../../src/platform/module.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule } from '../helpers/probe-module.js';
import { createTestTokens, type TestTokens } from '../helpers/tokens.js';

/** A key source that counts its reads (each signature check reads it) and can be swapped. */
function countingKeys(initial: KeySource) {
  let source = initial;
  const state = {
    reads: 0,
    use(next: KeySource) {
      source = next;
    },
    keys: {
      keySet: (): Promise<JSONWebKeySet> => {
        state.reads += 1;
        return source.keySet();
      },
    },
  };
  return state;
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number };

describe('verified-token cache', () => {
  let a: TestTokens;
  let b: TestTokens;
  beforeAll(async () => {
    a = await createTestTokens();
    b = await createTestTokens();
  });

  function verifier(keys: KeySource, now: () => number, check?: (p: Principal) => Promise<void>) {
    return createTokenVerifier({
      issuer: 'lectern',
      audience: 'lectern-api',
      keys,
      now,
      keyCheckMs: 60_000,
      ...(check ? { check } : {}),
    });
  }

  it('checks a repeated token once, and never serves it from the cache after its exp', async () => {
    const keys = countingKeys(a.keys);
    const token = await a.user('u1');
    const exp = claimsOf(token).exp * 1000;
    let now = Date.now();
    const v = verifier(keys.keys, () => now);

    await v.verify(token);
    const readsAfterFirst = keys.reads;
    await v.verify(token);
    await v.verify(token);
    expect(keys.reads).toBe(readsAfterFirst);

    now = exp - 1;
    await v.verify(token);
    expect(keys.reads).toBe(readsAfterFirst + 1); // the periodic key check, not a signature check
    // past exp but inside the 5 s clock tolerance: accepted, yet only after a full check again
    now = exp + 1000;
    const before = keys.reads;
    await v.verify(token);
    expect(keys.reads).toBeGreaterThan(before);
    now = exp + 6000;
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'auth.token-expired' });
  });

  it('empties the cache when the key set changes: a token of a withdrawn key is refused', async () => {
    const keys = countingKeys(a.keys);
    let now = Date.now();
    const v = verifier(keys.keys, () => now);
    const token = await a.user('u2');
    await v.verify(token);
    await v.verify(token);

    keys.use(b.keys); // rotation that withdrew a's key
    // within keyCheckMs the cache may still answer; the bound is keyCheckMs
    now += 60_000;
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'auth.invalid-token' });
    await expect(v.verify(await b.user('u3'))).resolves.toMatchObject({ subject: 'u3' });
  });

  it('flush() makes the next request check the signature again', async () => {
    const keys = countingKeys(a.keys);
    const v = verifier(keys.keys, Date.now);
    const token = await a.user('u4');
    await v.verify(token);
    const reads = keys.reads;
    v.flush();
    await v.verify(token);
    expect(keys.reads).toBeGreaterThan(reads);
  });

  it('answers a remembered token without a promise when the keys and the check need no I/O', async () => {
    const denied = new Set<string>();
    const keys = { keySet: () => a.keys.keySet(), knownKeySet: () => known };
    const known = await a.keys.keySet();
    const v = createTokenVerifier({
      issuer: 'lectern',
      audience: 'lectern-api',
      keys,
      check: (p) => {
        if (denied.has(p.subject)) throw AppError.unauthenticated('auth.token-revoked', 'revoked');
      },
    });
    const token = await a.user('u6');
    // the first sight checks the signature (a promise), then the token is remembered
    const first = v.principal(token);
    expect(first).toBeInstanceOf(Promise);
    // settled before the token is denied below: left pending, it could run its check afterwards
    await first;
    await v.verify(token);
    const again = v.principal(token);
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toMatchObject({ subject: 'u6' });
    // the check still runs on every request: a revoked token is refused at once, synchronously
    denied.add('u6');
    expect(() => v.principal(token)).toThrow(expect.objectContaining({ code: 'auth.token-revoked' }));
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'auth.token-revoked' });
  });

  it('answers from the cache only the very token it verified, not one ending like it', async () => {
    const keys = countingKeys(a.keys);
    const v = verifier(keys.keys, Date.now);
    const token = await a.user('u7');
    await v.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // another subject in the payload, the remembered token's signature (and so its last characters)
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin', roles: ['admin'] })).toString('base64url')}.${signature}`;
    expect(forged.slice(-32)).toBe(token.slice(-32));
    const reads = keys.reads;
    await expect(v.verify(forged)).rejects.toMatchObject({ code: 'auth.invalid-token' });
    expect(keys.reads).toBeGreaterThan(reads); // checked, not answered from the cache
    // the forgery took nothing away: the real token is still answered, and for its own subject
    await expect(v.verify(token)).resolves.toMatchObject({ subject: 'u7' });
    // and text after the remembered token is a new token, checked in full (syntax first)
    await expect(v.verify(`${token}\u0001`)).rejects.toMatchObject({ code: 'auth.malformed-authorization' });
    await expect(v.verify(`x${token}`)).rejects.toMatchObject({ code: 'auth.invalid-token' });
  });

  it('hands out a principal no handler can change for the next request', async () => {
    const v = verifier(a.keys, Date.now);
    const token = await a.user('u5', ['learner']);
    const first = await v.verify(token);
    expect(() => first.roles.push('admin')).toThrow();
    expect((await v.verify(token)).roles).toEqual(['learner']);
  });
});

describe('revocation with a warm cache, through buildApp', () => {
  let t: TestApp;
  const denied = new Set<string>();
  const reads = { count: 0 };

  beforeAll(async () => {
    const denyList: LecternModule = {
      name: 'denylist',
      migrations: {},
      checkToken: (principal) => {
        if (denied.has(principal.subject))
          return Promise.reject(AppError.unauthenticated('auth.token-revoked', 'revoked'));
        return Promise.resolve();
      },
    };
    t = await buildTestApp((platform) => [createProbeModule(platform.database.db), denyList], {
      keys: () => ({
        keySet: () => {
          reads.count += 1;
          return t.tokens.keys.keySet();
        },
      }),
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('refuses a disabled user on the very next request', async () => {
    const token = await t.tokens.user('admin-1', ['admin']);
    const ask = () =>
      t.app.inject({ url: '/api/v1/probe/admin', headers: { authorization: `Bearer ${token}` } });
    expect((await ask()).statusCode).toBe(200);
    const readsWarm = reads.count;
    expect((await ask()).statusCode).toBe(200);
    // answered from the cache: one read of the key set (the rotation check), no signature check,
    // which would read it again to find the key
    expect(reads.count).toBe(readsWarm + 1);

    denied.add('admin-1');
    const refused = await ask();
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'auth.token-revoked' });
  });

  it('refuses control characters and other text in the header with 401, a remembered token or not', async () => {
    const token = await t.tokens.user('admin-2', ['admin']);
    const ask = (authorization: string) =>
      t.app.inject({ url: '/api/v1/probe/admin', headers: { authorization } });
    expect((await ask(`Bearer ${token}`)).statusCode).toBe(200);
    // the text guard leaves this header to the auth guard, which refuses all but RFC 6750's token
    for (const bad of [
      `${token}\u0000`,
      `${token.slice(0, 40)}\u0001${token.slice(41)}`,
      `${token} x`,
      '\ud800',
    ]) {
      const res = await ask(`Bearer ${bad}`);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'auth.malformed-authorization' });
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    }
    expect((await ask(`Basic ${token}`)).json()).toMatchObject({ code: 'auth.malformed-authorization' });
    expect((await ask(`Bearer ${token}`)).statusCode).toBe(200);
  });

  it('the optional guard: anonymous is fine, a token names its subject, malformed text is a 401', async () => {
    const token = await t.tokens.user('reader-1');
    const whoami = (authorization?: string) =>
      t.app.inject({ url: '/api/v1/probe/whoami', ...(authorization ? { headers: { authorization } } : {}) });
    expect((await whoami()).json()).toEqual({ subject: null });
    expect((await whoami(`Bearer ${token}`)).json()).toEqual({ subject: 'reader-1' });
    // remembered now: text added to it, or another scheme, is still refused
    for (const bad of [
      `Bearer ${token}\u0001`,
      `Bearer ${token.slice(0, 20)}\u007f${token.slice(21)}`,
      `Basic ${token}`,
    ]) {
      const res = await whoami(bad);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'auth.malformed-authorization' });
    }
    expect((await whoami('Bearer not.a.token')).json()).toMatchObject({ code: 'auth.invalid-token' });
    expect((await whoami(`Bearer ${token}`)).json()).toEqual({ subject: 'reader-1' });
  });
});
