// Access tokens end to end. Part one: RFC 8725 (JWT BCP) and RFC 9700 (OAuth security BCP)
// cases against the platform guard, with tokens signed by the identity module's real keys; every
// negative case changes one thing of a token the first test proves is accepted, so a refusal can
// only come from that change. Part two: the OAuth 2.0 endpoints on a listening server, driven by
// a real client library (openid-client) and by raw requests for the RFC 6749 error cases.
// One file, one app: booting the embedded database is most of a file's run time.
import { randomUUID } from 'node:crypto';
import {
  base64url,
  createRemoteJWKSet,
  decodeJwt,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import * as client from 'openid-client';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../platform/http/auth.js';
import { epochSeconds, internalMeta } from './context.js';
import { createSecretBox } from './crypto.js';
import { type IdentityTestApp, startIdentityApp } from './identity.test-support.js';
import { createSigningKeys } from './keys.service.js';
import { ACCESS_TOKEN_TTL_SECONDS } from './tokens.service.js';
import { freePort } from '../../../test/helpers/ports.js';

let t: IdentityTestApp;
let base: URL;

beforeAll(async () => {
  const port = await freePort();
  base = new URL(`http://127.0.0.1:${port}`);
  // no JWT_ISSUER: the issuer defaults to the public URL, which openid-client's discovery checks
  t = await startIdentityApp({ env: { PUBLIC_URL: base.href.replace(/\/$/, '') } });
  await t.app.app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await t.app.stop();
});

describe('access-token guard (RFC 8725, RFC 9700)', () => {
  let user: { id: string; email: string; password: string };
  let issued: { accessToken: string; refreshToken: string };
  let root: { email: string; password: string };
  /** A fresh admin token: the rotation test withdraws the key older tokens were signed with. */
  const admin = async () => t.bearer((await t.login(root.email, root.password)).accessToken);

  beforeAll(async () => {
    user = await t.createUser();
    issued = await t.login(user.email, user.password);
    root = await t.createUser({ roles: ['learner', 'admin'] });
  });

  const config = () => t.app.platform.config;
  const me = (headers: Record<string, string>, url = '/api/v1/me') =>
    t.app.app.inject({ method: 'GET', url, headers });
  const withBearer = (token: string) => me({ authorization: `Bearer ${token}` });

  function claims(overrides: JWTPayload = {}, omit: string[] = []): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    const base: JWTPayload = {
      iss: config().jwtIssuer,
      aud: config().jwtAudience,
      sub: user.id,
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      roles: ['learner'],
      ...overrides,
    };
    for (const key of omit) Reflect.deleteProperty(base, key);
    return base;
  }

  /** Sign with the identity module's current private key. */
  async function signReal(payload: JWTPayload, header: Record<string, unknown> = {}) {
    const { kid, privateKey } = await t.identity.keys.activeKey();
    return new SignJWT(payload)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, ...header })
      .sign(privateKey);
  }

  const segment = (value: object) => base64url.encode(JSON.stringify(value));

  /** Sign bytes directly, for headers jose itself refuses to produce. */
  async function signRaw(header: object, payload: JWTPayload) {
    const { privateKey } = await t.identity.keys.activeKey();
    const input = `${segment(header)}.${segment(payload)}`;
    const signature = await crypto.subtle.sign('Ed25519', privateKey, new TextEncoder().encode(input));
    return `${input}.${base64url.encode(new Uint8Array(signature))}`;
  }

  async function expectRefused(token: string, code = 'auth.invalid-token') {
    const res = await withBearer(token);
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe(code);
    expect(res.headers['www-authenticate']).toContain('invalid_token');
  }

  describe('token info', () => {
    it('tells the holder what its verified token says, and refuses it once the session ends', async () => {
      const session = await t.login(user.email, user.password);
      const info = await me(t.bearer(session.accessToken), '/api/v1/auth/token-info');
      expect(info.statusCode).toBe(200);
      expect(info.json()).toMatchObject({ subject: user.id, kind: 'user', roles: ['learner'] });
      expect(Date.parse(info.json().expiresAt)).toBeGreaterThan(Date.now());
      const logout = await t.app.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: t.bearer(session.accessToken),
        payload: { refreshToken: session.refreshToken },
      });
      expect(logout.statusCode).toBeLessThan(300);
      expect((await me(t.bearer(session.accessToken), '/api/v1/auth/token-info')).statusCode).toBe(401);
      expect((await me({}, '/api/v1/auth/token-info')).statusCode).toBe(401);
    });
  });

  describe('tokens the guard accepts', () => {
    it('accepts an identity-issued token and a hand-built token with the same key and claims', async () => {
      expect((await withBearer(issued.accessToken)).statusCode).toBe(200);
      expect((await withBearer(await signReal(claims()))).statusCode).toBe(200);
    });

    it('issues RFC 9068 tokens: EdDSA, typ at+jwt, kid, iss, aud, sub, iat, exp, jti, client_id, sid', () => {
      const [headerPart, payloadPart] = issued.accessToken.split('.') as [string, string];
      const header = JSON.parse(new TextDecoder().decode(base64url.decode(headerPart)));
      const payload = JSON.parse(new TextDecoder().decode(base64url.decode(payloadPart)));
      expect(header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
      expect(payload).toMatchObject({
        iss: config().jwtIssuer,
        aud: config().jwtAudience,
        sub: user.id,
        client_id: 'lectern-app',
        sid: expect.any(String),
        roles: ['learner'],
        amr: ['pwd'],
        jti: expect.any(String),
      });
      expect(payload.exp - payload.iat).toBe(ACCESS_TOKEN_TTL_SECONDS);
      // no personal data in a token anyone holding it can read
      expect(JSON.stringify(payload)).not.toContain(user.email);
    });
  });

  describe('RFC 8725: algorithms (§3.1, §3.2)', () => {
    it('refuses alg "none"', async () => {
      const { kid } = await t.identity.keys.activeKey();
      await expectRefused(`${segment({ alg: 'none', typ: 'at+jwt', kid })}.${segment(claims())}.`);
    });

    it('refuses HS256 signed with the public key as the HMAC secret', async () => {
      const jwks = (await t.app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json<{
        keys: { kid: string; x: string }[];
      }>();
      const key = jwks.keys[0]!;
      for (const secret of [new TextEncoder().encode(JSON.stringify(key)), base64url.decode(key.x)]) {
        const token = await new SignJWT(claims())
          .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })
          .sign(secret);
        await expectRefused(token);
      }
    });

    it('refuses ES256 from another key under the real kid', async () => {
      const { kid } = await t.identity.keys.activeKey();
      const { privateKey } = await generateKeyPair('ES256');
      await expectRefused(
        await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid }).sign(privateKey),
      );
    });
  });

  describe('RFC 8725: signatures and keys (§3.3, §3.10)', () => {
    it('refuses a tampered payload (roles raised to admin) and a tampered signature', async () => {
      const [h, , s] = (await signReal(claims())).split('.') as [string, string, string];
      const raised = `${h}.${segment(claims({ roles: ['admin'] }))}.${s}`;
      const res = await me({ authorization: `Bearer ${raised}` }, '/api/v1/admin/users');
      expect(res.statusCode).toBe(401);
      const flipped = s.startsWith('A') ? `B${s.slice(1)}` : `A${s.slice(1)}`;
      await expectRefused(`${h}.${segment(claims())}.${flipped}`);
    });

    it('refuses an unknown kid, a missing kid with a foreign key, and a key embedded in the header (jwk, jku)', async () => {
      const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const sign = (header: Record<string, unknown>) =>
        new SignJWT(claims()).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', ...header }).sign(privateKey);
      await expectRefused(await sign({ kid: 'attacker-key' }));
      await expectRefused(await sign({}));
      await expectRefused(await sign({ kid: 'attacker-key', jwk: await exportJWK(publicKey) }));
      await expectRefused(await sign({ kid: 'attacker-key', jku: 'https://attacker.example/jwks.json' }));
      // the real kid does not help a foreign signature either
      await expectRefused(await sign({ kid: (await t.identity.keys.activeKey()).kid }));
    });

    it('refuses a critical header extension it does not understand', async () => {
      const { kid } = await t.identity.keys.activeKey();
      // the raw signer itself is sound: the same header without crit is accepted
      expect(
        (await withBearer(await signRaw({ alg: 'EdDSA', typ: 'at+jwt', kid }, claims()))).statusCode,
      ).toBe(200);
      await expectRefused(
        await signRaw({ alg: 'EdDSA', typ: 'at+jwt', kid, crit: ['x-unknown'], 'x-unknown': true }, claims()),
      );
    });
  });

  describe('RFC 8725: claims (§3.8, §3.9, §3.11) and lifetimes', () => {
    it('refuses a wrong or missing type (an ID token or any other JWT replayed as an access token)', async () => {
      await expectRefused(await signReal(claims(), { typ: 'JWT' }));
      await expectRefused(await signReal(claims(), { typ: 'dpop+jwt' }));
      await expectRefused(await signReal(claims(), { typ: undefined }));
    });

    it('refuses the wrong issuer or audience', async () => {
      await expectRefused(await signReal(claims({ iss: 'https://evil.example' })));
      await expectRefused(await signReal(claims({ aud: 'some-other-api' })));
      await expectRefused(await signReal(claims({ aud: ['some-other-api', 'another'] })));
    });

    it('refuses expired and not-yet-valid tokens', async () => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      await expectRefused(await signReal(claims({ iat: past, exp: past + 300 })), 'auth.token-expired');
      await expectRefused(await signReal(claims({ nbf: Math.floor(Date.now() / 1000) + 3600 })));
    });

    it('refuses a token missing any required claim', async () => {
      for (const missing of ['exp', 'iat', 'sub', 'jti', 'iss', 'aud']) {
        await expectRefused(await signReal(claims({}, [missing])));
      }
    });

    it('expires identity-issued tokens after the short access-token lifetime', async () => {
      // minted "in the past" by the injectable clock: expired by the real one
      t.clock.advance(-(ACCESS_TOKEN_TTL_SECONDS + 60));
      try {
        const old = await t.identity.keys.sign(user.id, { roles: ['learner'] });
        await expectRefused(old.token, 'auth.token-expired');
      } finally {
        t.clock.advance(ACCESS_TOKEN_TTL_SECONDS + 60);
      }
    });
  });

  describe('RFC 6750 / RFC 9700: how tokens are presented', () => {
    it('ignores access tokens in the query string or body, and malformed Authorization headers', async () => {
      const query = await t.app.app.inject({
        method: 'GET',
        url: `/api/v1/me?access_token=${issued.accessToken}`,
      });
      expect(query.statusCode).toBe(401);
      expect(query.json().code).toBe('auth.required');
      const form = await t.app.app.inject({
        method: 'PATCH',
        url: '/api/v1/me',
        payload: { access_token: issued.accessToken, displayName: 'x' },
      });
      // bodies are closed, so the unknown field is refused before the guard runs; either way the
      // token in the body authenticates nobody
      expect([400, 401]).toContain(form.statusCode);
      expect((await me({ authorization: `Basic ${issued.accessToken}` })).statusCode).toBe(401);
      expect((await me({ authorization: `Bearer ${issued.accessToken} extra` })).statusCode).toBe(401);
      expect((await me({ authorization: 'Bearer' })).statusCode).toBe(401);
    });

    it('refuses a refresh token presented as an access token', async () => {
      await expectRefused(issued.refreshToken);
    });

    it('refuses a client_credentials token on a user route (403)', async () => {
      const client = await t.identity.tokens.clientToken('cl_guard_test', 'catalog:read');
      const res = await withBearer(client.token);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('auth.user-required');
    });
  });

  describe('signing keys: storage, JWKS and rotation', () => {
    it('reads the key rows with one query however many guarded requests wait for them', async () => {
      let reads = 0;
      const counting = t.identity.db.withPlugin({
        transformQuery: ({ node }) => {
          if (node.kind === 'SelectQueryNode') reads += 1;
          return node;
        },
        transformResult: ({ result }) => Promise.resolve(result),
      });
      const keys = createSigningKeys({
        db: counting,
        box: createSecretBox('test-secret-for-sealing-keys'),
        clock: t.clock,
        issuer: 'lectern',
        audience: 'lectern-api',
        accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
      });
      const sets = await Promise.all(Array.from({ length: 20 }, () => keys.keySource.keySet()));
      expect(reads).toBe(1);
      // one object while it holds, and known without a promise
      expect(new Set(sets).size).toBe(1);
      expect(keys.keySource.knownKeySet?.()).toBe(sets[0]);

      // rows whose read began before this process changed the table are not kept as current:
      // the answer waiting on them reads the rows again
      keys.invalidate();
      const inFlight = keys.keySource.keySet();
      keys.invalidate();
      await inFlight;
      expect(reads).toBe(3);
      await keys.keySource.keySet();
      expect(reads).toBe(3);
    });

    it('stores private keys sealed and publishes only public halves', async () => {
      const rows = await t.identity.db
        .selectFrom('identity.signing_keys')
        .select(['private_jwk', 'public_jwk'])
        .execute();
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.private_jwk.startsWith('v1.')).toBe(true);
        expect(row.public_jwk).not.toHaveProperty('d');
      }
      const jwks = await t.app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
      expect(jwks.statusCode).toBe(200);
      for (const key of jwks.json<{ keys: Record<string, unknown>[] }>().keys) {
        expect(key).toEqual({
          kty: 'OKP',
          crv: 'Ed25519',
          x: expect.any(String),
          kid: expect.any(String),
          alg: 'EdDSA',
          use: 'sig',
        });
      }
    });

    it('rotates: new tokens use the new kid, old tokens verify until the old key leaves the JWKS', async () => {
      const before = await t.login(user.email, user.password);
      const oldKid = (await t.identity.keys.activeKey()).kid;

      const rotate = await t.app.app.inject({
        method: 'POST',
        url: '/api/v1/admin/keys/rotate',
        payload: {},
        headers: await admin(),
      });
      expect(rotate.statusCode).toBe(200);
      const newKid = rotate.json<{ kid: string }>().kid;
      expect(newKid).not.toBe(oldKid);

      const after = await t.login(user.email, user.password);
      const kidOf = (token: string) =>
        (JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!))) as { kid: string }).kid;
      expect(kidOf(before.accessToken)).toBe(oldKid);
      expect(kidOf(after.accessToken)).toBe(newKid);
      expect((await withBearer(before.accessToken)).statusCode).toBe(200);
      expect((await withBearer(after.accessToken)).statusCode).toBe(200);
      const kids = async () =>
        (await t.app.app.inject({ method: 'GET', url: '/.well-known/jwks.json' }))
          .json<{ keys: { kid: string }[] }>()
          .keys.map((k) => k.kid);
      expect(await kids()).toEqual(expect.arrayContaining([oldKid, newKid]));

      // once every token the old key signed has expired, the key is withdrawn
      t.clock.advance(ACCESS_TOKEN_TTL_SECONDS + 120);
      expect(await kids()).toEqual([newKid]);
      await expectRefused(before.accessToken);
      expect((await withBearer(after.accessToken)).statusCode).toBe(200);

      const audit = await t.identity.db
        .selectFrom('identity.audit_events')
        .select('details')
        .where('type', '=', 'signing_key.rotated')
        .execute();
      expect(audit).toEqual([{ details: expect.objectContaining({ kid: newKid }) }]);
    });
  });

  describe('the deny-list hook for the platform verifier (app.ts wiring)', () => {
    it('refuses a disabled user’s unexpired token at once when check is wired', async () => {
      const victim = await t.createUser();
      const { accessToken } = await t.login(victim.email, victim.password);
      const verifier = createTokenVerifier({
        issuer: config().jwtIssuer,
        audience: config().jwtAudience,
        keys: t.identity.api.keys,
        check: t.identity.api.checkPrincipal,
      });
      await expect(verifier.verify(accessToken)).resolves.toMatchObject({ subject: victim.id });
      const res = await t.app.app.inject({
        method: 'POST',
        url: `/api/v1/admin/users/${victim.id}/disable`,
        payload: {},
        headers: await admin(),
      });
      expect(res.statusCode).toBe(200);
      await expect(verifier.verify(accessToken)).rejects.toMatchObject({ code: 'auth.token-revoked' });
      // the token is still within its lifetime: only the hook refuses it
      expect(epochSeconds(new Date())).toBeLessThan(
        JSON.parse(new TextDecoder().decode(base64url.decode(accessToken.split('.')[1]!))).exp,
      );
    });
  });
});

describe('OAuth 2.0 endpoints', () => {
  let partner: { clientId: string; clientSecret: string };
  let serverApp: { clientId: string; clientSecret: string };
  let thirdParty: { clientId: string; clientSecret: string };
  let user: { id: string; email: string; password: string };

  const FORM = 'application/x-www-form-urlencoded';

  beforeAll(async () => {
    const register = async (input: Parameters<typeof t.identity.api.registerClient>[0]) => {
      const created = await t.identity.api.registerClient(input);
      return { clientId: created.clientId, clientSecret: created.clientSecret ?? '' };
    };
    partner = await register({
      name: 'Partner',
      grantTypes: ['client_credentials'],
      scopes: ['catalog:read', 'reports:read'],
      confidential: true,
    });
    serverApp = await register({
      name: 'First-party server app',
      grantTypes: ['password', 'refresh_token'],
      scopes: [],
      confidential: true,
      firstParty: true,
    });
    thirdParty = await register({
      name: 'Third party',
      grantTypes: ['refresh_token'],
      scopes: [],
      confidential: true,
    });
    user = await t.createUser();
  });

  const discover = (clientId: string, secret: string | undefined, auth: client.ClientAuth) =>
    client.discovery(base, clientId, secret, auth, {
      // the test server speaks plain HTTP on 127.0.0.1; deprecated only as a "not in production" marker
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      execute: [client.allowInsecureRequests],
      algorithm: 'oauth2',
    });

  function basic(id: string, secret: string) {
    const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
    return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
  }

  async function raw(
    path: string,
    body: string | Record<string, string>,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(new URL(path, base), {
      method: 'POST',
      headers: { 'content-type': FORM, ...headers },
      body: typeof body === 'string' ? body : new URLSearchParams(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    };
  }

  describe('discovery (RFC 8414) and the JWKS', () => {
    it('publishes metadata openid-client can use, with the issuer it was asked for', async () => {
      const config = await discover(partner.clientId, partner.clientSecret, client.ClientSecretBasic());
      const meta = config.serverMetadata();
      expect(meta.issuer).toBe(base.href.replace(/\/$/, ''));
      expect(t.app.platform.config.jwtIssuer).toBe(meta.issuer);
      expect(meta.token_endpoint).toBe(new URL('/oauth/token', base).href);
      expect(meta.revocation_endpoint).toBe(new URL('/oauth/revoke', base).href);
      expect(meta.introspection_endpoint).toBe(new URL('/oauth/introspect', base).href);
      expect(meta.grant_types_supported).toEqual(['password', 'refresh_token', 'client_credentials']);
    });
  });

  describe('client_credentials', () => {
    it('openid-client gets a scoped, verifiable client token with HTTP Basic and with client_secret_post', async () => {
      for (const auth of [client.ClientSecretBasic(), client.ClientSecretPost()]) {
        const config = await discover(partner.clientId, partner.clientSecret, auth);
        const tokens = await client.clientCredentialsGrant(config, { scope: 'catalog:read' });
        expect(tokens.token_type.toLowerCase()).toBe('bearer');
        expect(tokens.expiresIn()).toBeGreaterThan(200);
        expect(tokens.refresh_token).toBeUndefined();
        expect(tokens.scope).toBe('catalog:read');

        const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', base));
        const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, {
          issuer: t.app.platform.config.jwtIssuer,
          audience: t.app.platform.config.jwtAudience,
          typ: 'at+jwt',
          algorithms: ['EdDSA'],
        });
        expect(protectedHeader.alg).toBe('EdDSA');
        expect(payload).toMatchObject({
          sub: partner.clientId,
          client_id: partner.clientId,
          token_use: 'client',
          scope: 'catalog:read',
        });
      }
    });

    it('grants every allowed scope by default and refuses scopes beyond the registration', async () => {
      const config = await discover(partner.clientId, partner.clientSecret, client.ClientSecretBasic());
      const all = await client.clientCredentialsGrant(config);
      expect(all.scope).toBe('catalog:read reports:read');
      await expect(
        client.clientCredentialsGrant(config, { scope: 'catalog:read users:write' }),
      ).rejects.toMatchObject({
        error: 'invalid_scope',
        status: 400,
      });
    });

    it('refuses a wrong secret with 401 invalid_client and a Basic challenge', async () => {
      const res = await raw(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic(partner.clientId, 'cs_wrong') },
      );
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const post = await raw('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: partner.clientId,
        client_secret: 'nope',
      });
      expect(post.status).toBe(401);
      expect(post.body?.error).toBe('invalid_client');
      const unknown = await raw(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic('cl_nobody', 'x') },
      );
      expect(unknown.status).toBe(401);
    });

    it('refuses client_credentials for a public client with unauthorized_client', async () => {
      const res = await raw('/oauth/token', { grant_type: 'client_credentials', client_id: 'lectern-app' });
      expect(res.status).toBe(400);
      expect(res.body?.error).toBe('unauthorized_client');
    });
  });

  describe('password and refresh_token grants', () => {
    it('openid-client signs in (password grant), refreshes twice, and a reused token revokes the family', async () => {
      const config = await discover(serverApp.clientId, serverApp.clientSecret, client.ClientSecretBasic());
      const first = await client.genericGrantRequest(config, 'password', {
        username: user.email,
        password: user.password,
      });
      expect(first.refresh_token).toMatch(/^rt_/);
      expect(decodeJwt(first.access_token)).toMatchObject({ sub: user.id, client_id: serverApp.clientId });

      const second = await client.refreshTokenGrant(config, first.refresh_token!);
      const third = await client.refreshTokenGrant(config, second.refresh_token!);
      expect(new Set([first.refresh_token, second.refresh_token, third.refresh_token]).size).toBe(3);
      const me = await fetch(new URL('/api/v1/me', base), {
        headers: { authorization: `Bearer ${third.access_token}` },
      });
      expect(me.status).toBe(200);

      await expect(client.refreshTokenGrant(config, first.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
        status: 400,
      });
      await expect(client.refreshTokenGrant(config, third.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });

    it('the built-in public first-party client works with client_id alone', async () => {
      const config = await discover('lectern-app', undefined, client.None());
      const tokens = await client.genericGrantRequest(config, 'password', {
        username: user.email,
        password: user.password,
      });
      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(refreshed.access_token).toBeTruthy();
    });

    it('binds refresh tokens to their client (RFC 6749 §6)', async () => {
      const config = await discover(serverApp.clientId, serverApp.clientSecret, client.ClientSecretBasic());
      const tokens = await client.genericGrantRequest(config, 'password', {
        username: user.email,
        password: user.password,
      });
      const other = await discover(thirdParty.clientId, thirdParty.clientSecret, client.ClientSecretBasic());
      await expect(client.refreshTokenGrant(other, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
      // the rightful client still can: the foreign attempt did not spend it
      await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).resolves.toBeTruthy();
    });

    it('keeps the password grant to first-party clients and answers bad credentials with invalid_grant', async () => {
      const notAllowed = await raw(
        '/oauth/token',
        { grant_type: 'password', username: user.email, password: user.password },
        { authorization: basic(thirdParty.clientId, thirdParty.clientSecret) },
      );
      expect(notAllowed.status).toBe(400);
      expect(notAllowed.body?.error).toBe('unauthorized_client');
      const wrong = await raw(
        '/oauth/token',
        { grant_type: 'password', username: user.email, password: 'not-the-password' },
        { authorization: basic(serverApp.clientId, serverApp.clientSecret) },
      );
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual({
        error: 'invalid_grant',
        error_description: 'The email address or password is not correct.',
      });
      expect(wrong.headers.get('cache-control')).toBe('no-store');
    });

    it('needs mfa_code for an account with two-factor authentication', async () => {
      const mfaUser = await t.createUser();
      const { secret } = await t.identity.mfa.startEnrolment(mfaUser.id, mfaUser.password, internalMeta);
      await t.identity.mfa.confirmEnrolment(
        mfaUser.id,
        await generate({ secret, epoch: epochSeconds(t.clock()) }),
        internalMeta,
      );
      t.clock.advance(30);
      const auth = { authorization: basic(serverApp.clientId, serverApp.clientSecret) };
      const without = await raw(
        '/oauth/token',
        { grant_type: 'password', username: mfaUser.email, password: mfaUser.password },
        auth,
      );
      expect(without.status).toBe(400);
      expect(without.body?.error).toBe('invalid_grant');
      const code = await generate({ secret, epoch: epochSeconds(t.clock()) });
      const withCode = await raw(
        '/oauth/token',
        { grant_type: 'password', username: mfaUser.email, password: mfaUser.password, mfa_code: code },
        auth,
      );
      expect(withCode.status).toBe(200);
      expect(decodeJwt(String(withCode.body?.access_token)).amr).toEqual(['pwd', 'otp']);
    });
  });

  describe('revocation (RFC 7009) and introspection (RFC 7662)', () => {
    it('introspects access and refresh tokens for confidential clients; revocation ends the family', async () => {
      const app = await discover(serverApp.clientId, serverApp.clientSecret, client.ClientSecretBasic());
      const tokens = await client.genericGrantRequest(app, 'password', {
        username: user.email,
        password: user.password,
      });

      const resourceServer = await discover(
        partner.clientId,
        partner.clientSecret,
        client.ClientSecretBasic(),
      );
      const access = await client.tokenIntrospection(resourceServer, tokens.access_token);
      expect(access).toMatchObject({
        active: true,
        sub: user.id,
        client_id: serverApp.clientId,
        token_type: 'Bearer',
      });
      // refresh tokens are described only to the client they belong to
      expect((await client.tokenIntrospection(resourceServer, tokens.refresh_token!)).active).toBe(false);
      const own = await client.tokenIntrospection(app, tokens.refresh_token!);
      expect(own).toMatchObject({ active: true, sub: user.id, username: user.email });

      await client.tokenRevocation(app, tokens.refresh_token!);
      expect((await client.tokenIntrospection(app, tokens.refresh_token!)).active).toBe(false);
      expect((await client.tokenIntrospection(resourceServer, tokens.access_token)).active).toBe(false);
      await expect(client.refreshTokenGrant(app, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });

      // unknown tokens: revocation still 200, introspection inactive
      await expect(client.tokenRevocation(app, 'rt_never_issued')).resolves.toBeUndefined();
      expect((await client.tokenIntrospection(resourceServer, 'garbage')).active).toBe(false);
    });

    it('revokes the family when the client revokes one of its access tokens', async () => {
      const app = await discover(serverApp.clientId, serverApp.clientSecret, client.ClientSecretPost());
      const tokens = await client.genericGrantRequest(app, 'password', {
        username: user.email,
        password: user.password,
      });
      await client.tokenRevocation(app, tokens.access_token);
      await expect(client.refreshTokenGrant(app, tokens.refresh_token!)).rejects.toMatchObject({
        error: 'invalid_grant',
      });
    });

    it('refuses introspection to public and unauthenticated clients', async () => {
      const pub = await raw('/oauth/introspect', { token: 'x', client_id: 'lectern-app' });
      expect(pub.status).toBe(401);
      expect(pub.body?.error).toBe('invalid_client');
      const none = await raw('/oauth/introspect', { token: 'x' });
      expect(none.status).toBe(401);
    });
  });

  describe('RFC 6749 request rules', () => {
    const auth = () => ({ authorization: basic(partner.clientId, partner.clientSecret) });

    it('answers malformed requests with invalid_request JSON, never problem+json or 500', async () => {
      const missing = await raw('/oauth/token', {}, auth());
      expect(missing).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
      expect(missing.headers.get('content-type')).toMatch(/^application\/json/);

      const repeated = await raw('/oauth/token', 'grant_type=client_credentials&scope=a&scope=b', auth());
      expect(repeated).toMatchObject({ status: 400, body: { error: 'invalid_request' } });

      const both = await raw(
        '/oauth/token',
        { grant_type: 'client_credentials', client_secret: partner.clientSecret },
        auth(),
      );
      expect(both).toMatchObject({ status: 400, body: { error: 'invalid_request' } });

      const json = await fetch(new URL('/oauth/token', base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth() },
        body: JSON.stringify({ grant_type: 'client_credentials' }),
      });
      expect(json.status).toBe(415);
      expect(await json.json()).toMatchObject({ error: 'invalid_request' });

      const nul = await raw('/oauth/token', 'grant_type=client_credentials&client_id=a%00b', auth());
      expect(nul).toMatchObject({ status: 400, body: { error: 'invalid_request' } });

      const badScope = await raw('/oauth/token', { grant_type: 'client_credentials', scope: 'a"b' }, auth());
      expect(badScope).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    });

    it('reports an unsupported grant type', async () => {
      const res = await raw('/oauth/token', { grant_type: 'authorization_code', code: 'x' }, auth());
      expect(res).toMatchObject({ status: 400, body: { error: 'unsupported_grant_type' } });
      const implicit = await raw(
        '/oauth/token',
        { grant_type: 'urn:ietf:params:oauth:grant-type:device_code' },
        auth(),
      );
      expect(implicit.body?.error).toBe('unsupported_grant_type');
    });

    it('sends Cache-Control: no-store with tokens and allows only POST', async () => {
      const ok = await raw('/oauth/token', { grant_type: 'client_credentials' }, auth());
      expect(ok.status).toBe(200);
      expect(ok.headers.get('cache-control')).toBe('no-store');
      expect(ok.headers.get('pragma')).toBe('no-cache');
      const get = await fetch(new URL('/oauth/token', base));
      expect(get.status).toBe(405);
    });
  });
});
