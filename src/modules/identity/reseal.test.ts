// Rotating IDENTITY_KEY_SECRET: values sealed under a previous secret keep opening, and the
// identity.reseal-secrets job seals them again under the current one.
import { decodeProtectedHeader } from 'jose';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../platform/config.js';
import { parseSettings } from '../../platform/settings.js';
import { epochSeconds, type RequestMeta } from './context.js';
import { createSecretBox } from './crypto.js';
import { buildIdentity } from './identity.module.js';
import { IdentitySettings } from './identity.settings.js';
import { type IdentityTestApp, startIdentityApp } from './identity.test-support.js';
import { createSigningKeys } from './keys.service.js';
import { createMfa } from './mfa.service.js';
import { createSecretReseal } from './reseal.service.js';
import { ACCESS_TOKEN_TTL_SECONDS } from './tokens.service.js';

const OLDER = 'reseal-test-secret-older-000000000000';
const A = 'reseal-test-secret-a-0000000000000000';
const B = 'reseal-test-secret-b-0000000000000000';
/** A secret no setting names: what it sealed opens with no configured key. */
const LOST = 'reseal-test-secret-lost-000000000000';

let t: IdentityTestApp;
beforeAll(async () => {
  t = await startIdentityApp({
    env: { IDENTITY_KEY_SECRET: B, IDENTITY_KEY_SECRET_PREVIOUS: `${OLDER},${A}` },
  });
});
afterAll(async () => {
  await t.app.stop();
});

const meta: RequestMeta = { ip: '10.50.0.1', userAgent: null };
const post = (url: string, payload: object) =>
  t.app.app.inject({ method: 'POST', url, payload, remoteAddress: meta.ip });
const codeNow = (secret: string) => generate({ secret, epoch: epochSeconds(t.clock()) });
/** The start of the next 30 s step: a code of a step already used is refused as a replay. */
const nextStep = () => {
  t.clock.advance(30 - (epochSeconds(t.clock()) % 30));
};

/** Identity's own services over the app's database, sealing under `secret` alone (none: plain). */
function servicesUnder(secret: string | undefined) {
  const box = createSecretBox(secret);
  const { config } = t.app.platform;
  return {
    box,
    mfa: createMfa({
      db: t.identity.db,
      box,
      clock: t.clock,
      audit: t.identity.audit,
      throttle: t.identity.throttle,
      tokens: t.identity.tokens,
    }),
    keys: createSigningKeys({
      db: t.identity.db,
      box,
      clock: t.clock,
      issuer: config.jwtIssuer,
      audience: config.jwtAudience,
      accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
    }),
  };
}

/** A user who turned TOTP on while the deployment sealed under `secret`. */
async function totpUserUnder(secret: string | undefined) {
  const user = await t.createUser();
  const { mfa } = servicesUnder(secret);
  const { secret: totp } = await mfa.startEnrolment(user.id, user.password, meta);
  await mfa.confirmEnrolment(user.id, await codeNow(totp), meta);
  return { ...user, totp };
}

/** Password, then a TOTP code; the access token. */
async function signInWithCode(user: { email: string; password: string; totp: string }) {
  nextStep();
  const first = await post('/api/v1/auth/login', { email: user.email, password: user.password });
  expect(first.json<{ status: string }>().status).toBe('mfa_required');
  const done = await post('/api/v1/auth/login/mfa', {
    mfaToken: first.json<{ mfaToken: string }>().mfaToken,
    code: await codeNow(user.totp),
  });
  expect(done.statusCode).toBe(200);
  return done.json<{ accessToken: string }>().accessToken;
}

async function sealedValues() {
  const [totp, keys] = await Promise.all([
    t.identity.db.selectFrom('identity.totp').select(['user_id', 'secret']).execute(),
    t.identity.db.selectFrom('identity.signing_keys').select(['kid', 'private_jwk']).execute(),
  ]);
  return {
    totp: new Map(totp.map((r) => [r.user_id, r.secret])),
    keys: new Map(keys.map((r) => [r.kid, r.private_jwk])),
  };
}

interface ResealLine {
  resealed: number;
  unreadable: number;
  left: number;
  unreadableIds?: { totpUserIds?: string[]; signingKeyKids?: string[] };
}

/** Run the cron job's handler as the worker would; its one log line. */
async function runResealJob(): Promise<ResealLine> {
  const job = t.identity.module.jobs?.find((j) => j.name === 'identity.reseal-secrets');
  if (!job) throw new Error('identity has no identity.reseal-secrets job');
  expect(job.cron?.expression).toMatch(/^\d+ \* \* \* \*$/); // hourly
  const from = t.logs.length;
  await job.handle({}, { id: 'test', attempt: 1, logger: t.app.platform.logger });
  const lines = t.logs
    .slice(from)
    .map((l) => JSON.parse(l) as ResealLine & { msg: string })
    .filter((l) => l.msg.includes('resealed'));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('rotating the key-encryption secret', () => {
  it('opens values under previous secrets, reseals them under the current one, and leaves what nothing opens', async () => {
    // the database as an earlier deployment left it: signing keys and TOTP secrets sealed under
    // a previous secret, a signing key and a TOTP secret stored plain before any secret was set,
    // and values under a secret that is no longer configured
    const lostKey = await servicesUnder(LOST).keys.rotate();
    const plainKey = await servicesUnder(undefined).keys.rotate();
    const keyUnderA = await servicesUnder(A).keys.rotate();
    const underA = await totpUserUnder(A);
    const underOlder = await totpUserUnder(OLDER);
    const plain = await totpUserUnder(undefined);
    const lost = await totpUserUnder(LOST);
    const underB = await totpUserUnder(B);
    t.identity.keys.invalidate();
    const before = await sealedValues();
    expect(before.totp.get(plain.id)?.startsWith('plain.')).toBe(true);
    expect(before.keys.get(plainKey.kid)?.startsWith('plain.')).toBe(true);

    // started with B and PREVIOUS=OLDER,A: sign-in with a code works, and the key sealed under A signs
    for (const user of [underA, underOlder, plain]) {
      const accessToken = await signInWithCode(user);
      expect(decodeProtectedHeader(accessToken).kid).toBe(keyUnderA.kid);
      const me = await t.app.app.inject({ method: 'GET', url: '/api/v1/me', headers: t.bearer(accessToken) });
      expect(me.statusCode).toBe(200);
      expect(me.json<{ id: string }>().id).toBe(user.id);
    }

    const first = await runResealJob();
    expect(first).toMatchObject({ resealed: 5, unreadable: 2, left: 0 });
    expect(first.unreadableIds).toEqual({ totpUserIds: [lost.id], signingKeyKids: [lostKey.kid] });

    // every value opens with B alone, except those nothing opened, which are left as they were
    const after = await sealedValues();
    const currentOnly = createSecretBox(B);
    for (const [id, sealed] of [...after.totp, ...after.keys]) {
      if (id === lost.id || id === lostKey.kid) {
        expect(sealed).toBe(before.totp.get(id) ?? before.keys.get(id));
        continue;
      }
      expect(sealed.startsWith('v1.')).toBe(true);
      expect(currentOnly.open(sealed)).toBe(
        createSecretBox(B, [OLDER, A]).open(before.totp.get(id) ?? before.keys.get(id) ?? ''),
      );
      expect(currentOnly.needsReseal(sealed)).toBe(false);
    }
    // a value already under B is not written again
    expect(after.totp.get(underB.id)).toBe(before.totp.get(underB.id));

    // sign-in with a code still works, and a process that only knows B signs with the resealed key
    await signInWithCode(underA);
    await signInWithCode(plain);
    const signed = await servicesUnder(B).keys.sign('someone', {});
    expect(decodeProtectedHeader(signed.token).kid).toBe(keyUnderA.kid);

    // a second run changes nothing
    const second = await runResealJob();
    expect(second).toMatchObject({ resealed: 0, unreadable: 2, left: 0 });
    expect(await sealedValues()).toEqual(after);

    // the log names ids and counts, never a secret or a sealed value
    const logs = t.logs.join('\n');
    for (const secret of [OLDER, A, B, LOST, underA.totp, plain.totp, lost.totp]) {
      expect(logs).not.toContain(secret);
    }
    for (const sealed of [...before.totp.values(), ...before.keys.values(), ...after.totp.values()]) {
      expect(logs).not.toContain(sealed.split('.')[1]);
    }
  });

  it('answers a code it cannot check (no key opens the secret) with a 503 problem; a recovery code still signs in', async () => {
    const user = await t.createUser();
    const { mfa } = servicesUnder(LOST);
    const { secret: totp } = await mfa.startEnrolment(user.id, user.password, meta);
    const { recoveryCodes } = await mfa.confirmEnrolment(user.id, await codeNow(totp), meta);
    nextStep();
    const first = await post('/api/v1/auth/login', { email: user.email, password: user.password });
    const mfaToken = first.json<{ mfaToken: string }>().mfaToken;
    const byCode = await post('/api/v1/auth/login/mfa', { mfaToken, code: await codeNow(totp) });
    expect(byCode.statusCode).toBe(503);
    expect(byCode.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(byCode.json<{ code: string }>().code).toBe('identity.mfa-secret-unavailable');
    const byRecovery = await post('/api/v1/auth/login/mfa', { mfaToken, recoveryCode: recoveryCodes[0] });
    expect(byRecovery.statusCode).toBe(200);
  });

  it('counts a value held by another transaction as left and reseals it on the next run', async () => {
    const held = await totpUserUnder(A);
    await t.identity.db.transaction().execute(async (trx) => {
      await trx
        .selectFrom('identity.totp')
        .select('user_id')
        .where('user_id', '=', held.id)
        .forUpdate()
        .execute();
      const run = await runResealJob();
      expect(run).toMatchObject({ resealed: 0, left: 1 });
    });
    const next = await runResealJob();
    expect(next).toMatchObject({ resealed: 1, left: 0 });
    const row = await t.identity.db
      .selectFrom('identity.totp')
      .select('secret')
      .where('user_id', '=', held.id)
      .executeTakeFirstOrThrow();
    expect(createSecretBox(B).open(row.secret)).toBe(held.totp);
  });

  it('does nothing without a secret, and without previous secrets reseals only values stored plain', async () => {
    const plain = await totpUserUnder(undefined);
    const before = await sealedValues();
    const logger = t.app.platform.logger;

    expect(
      await createSecretReseal({ db: t.identity.db, box: createSecretBox(undefined) }).run(logger),
    ).toEqual({
      resealed: 0,
      unreadable: 0,
      left: 0,
    });
    expect(await sealedValues()).toEqual(before);

    // v1 values name no key: without previous secrets none can need resealing, so none is read
    const run = await createSecretReseal({ db: t.identity.db, box: createSecretBox(B) }).run(logger);
    expect(run).toEqual({ resealed: 1, unreadable: 0, left: 0 });
    const after = await sealedValues();
    expect(createSecretBox(B).open(after.totp.get(plain.id) ?? '')).toBe(plain.totp);
    after.totp.delete(plain.id);
    before.totp.delete(plain.id);
    expect(after).toEqual(before);
  });

  it('refuses previous secrets without a current one at start, and reads them comma-separated, 32+ each', () => {
    expect(() => buildIdentity(t.app.platform, { previousKeyEncryptionSecrets: [A] })).toThrow(ConfigError);

    expect(
      parseSettings(IdentitySettings, { IDENTITY_KEY_SECRET_PREVIOUS: `${OLDER}, ${A}` }).values,
    ).toEqual({
      IDENTITY_KEY_SECRET_PREVIOUS: [OLDER, A],
    });
    const short = parseSettings(IdentitySettings, { IDENTITY_KEY_SECRET_PREVIOUS: `${A},short-old-secret` });
    expect(short.problems).toEqual(['IDENTITY_KEY_SECRET_PREVIOUS: must not have fewer than 32 characters']);
  });
});
