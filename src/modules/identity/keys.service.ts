import { randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { inTransaction } from '../../platform/db/database.js';
import { ACCESS_TOKEN_TYPE, type KeySource } from '../../platform/http/auth.js';
import { addSeconds, type Clock, epochSeconds, type IdentityDb } from './context.js';
import type { SecretBox } from './crypto.js';
import {
  deleteKeysExpiredBefore,
  insertSigningKey,
  listSigningKeys,
  retireSigningKeys,
} from './keys.queries.js';

/** EdDSA over Ed25519: small keys, deterministic signatures, no curve-parameter choices to get wrong. */
export const SIGNING_ALG = 'EdDSA';

/** How long this instance keeps using the key set it read, before reading the table again. */
const KEY_CACHE_MS = 5_000;

export interface SigningKeysOptions {
  db: IdentityDb;
  box: SecretBox;
  clock: Clock;
  issuer: string;
  audience: string;
  /** Access-token lifetime: a retired key stays published at least this long. */
  accessTokenTtlSeconds: number;
}

interface KeyRow {
  kid: string;
  publicJwk: JWK;
  sealedPrivate: string;
  activatedAt: Date;
  retiredAt: Date | null;
  expiresAt: Date | null;
}

export interface SignedToken {
  token: string;
  jti: string;
  issuedAt: number;
  expiresAt: number;
}

export type SigningKeys = ReturnType<typeof createSigningKeys>;

/**
 * Signing keys live in identity.signing_keys, private halves sealed by the secret box. One key
 * signs at a time; rotation retires it, and a retired key stays in the JWKS until every token it
 * signed has expired (plus the verifier's clock tolerance and other instances' cache time).
 */
export function createSigningKeys(options: SigningKeysOptions) {
  const { db, box, clock, issuer, audience, accessTokenTtlSeconds } = options;
  // retired keys stay published for the token lifetime, the verifier's 5 s skew and one cache period, with margin
  const retiredKeyGraceSeconds = accessTokenTtlSeconds + 5 + Math.ceil(KEY_CACHE_MS / 1000) + 60;
  let cached: { rows: KeyRow[]; at: number } | undefined;
  let creating: Promise<void> | undefined;
  let loading: Promise<KeyRow[]> | undefined;
  let rowsGeneration = 0;
  /** The published set of one rows array, valid while the clock stays within [from, until). */
  let publishedSet: { rows: KeyRow[]; from: number; until: number; set: JSONWebKeySet } | undefined;
  const imported = new Map<string, CryptoKey>();

  /** The cached rows while they are fresh. */
  const freshRows = (): KeyRow[] | undefined =>
    cached && Date.now() - cached.at < KEY_CACHE_MS ? cached.rows : undefined;

  async function readRows(): Promise<KeyRow[]> {
    const generation = rowsGeneration;
    const rows = await listSigningKeys(db);
    const mapped = rows.map((r) => ({
      kid: r.kid,
      publicJwk: r.public_jwk,
      sealedPrivate: r.private_jwk,
      activatedAt: r.activated_at,
      retiredAt: r.retired_at,
      expiresAt: r.expires_at,
    }));
    // rows read before this process changed the table must not be kept as current
    if (generation === rowsGeneration) cached = { rows: mapped, at: Date.now() };
    return mapped;
  }

  /** Forget the rows after this process changed them: the next read queries again. */
  function forgetRows(): void {
    rowsGeneration += 1;
    cached = undefined;
    loading = undefined;
  }

  async function loadRows(): Promise<KeyRow[]> {
    const fresh = freshRows();
    if (fresh) return fresh;
    // every guarded request reads the key set: when the cached rows run out under load, the
    // requests waiting for them share one query instead of each sending its own
    if (!loading) {
      const read = readRows().finally(() => {
        if (loading === read) loading = undefined;
      });
      loading = read;
    }
    return loading;
  }

  const published = (row: KeyRow, now: Date) => row.expiresAt === null || row.expiresAt > now;
  const signing = (row: KeyRow, now: Date) =>
    row.activatedAt <= now && (row.retiredAt === null || row.retiredAt > now);

  async function newKey(activatedAt: Date) {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, {
      crv: 'Ed25519',
      extractable: true,
    });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    return {
      kid,
      alg: SIGNING_ALG,
      public_jwk: JSON.stringify({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
      private_jwk: box.seal(JSON.stringify(privateJwk)),
      activated_at: activatedAt,
    };
  }

  async function ensureKey(): Promise<void> {
    const rows = await loadRows();
    if (rows.some((r) => signing(r, clock()))) return;
    // one creation per process at a time; two instances racing both insert, which is harmless
    creating ??= (async () => {
      await insertSigningKey(db, await newKey(clock()));
      forgetRows();
    })().finally(() => {
      creating = undefined;
    });
    await creating;
  }

  async function privateKeyOf(row: KeyRow): Promise<CryptoKey> {
    let key = imported.get(row.kid);
    if (!key) {
      const jwk = JSON.parse(box.open(row.sealedPrivate)) as JWK;
      key = (await importJWK(jwk, SIGNING_ALG)) as CryptoKey;
      imported.set(row.kid, key);
    }
    return key;
  }

  async function activeKey(): Promise<{ kid: string; privateKey: CryptoKey }> {
    await ensureKey();
    const now = clock();
    const row = (await loadRows()).find((r) => signing(r, now));
    if (!row) throw new Error('no signing key is active');
    return { kid: row.kid, privateKey: await privateKeyOf(row) };
  }

  /**
   * The keys `rows` publish at `now`, as the same object for as long as that answer holds (no
   * key enters or leaves it before `until`), so the verifier sees at a glance that nothing changed.
   */
  function publishedAt(rows: KeyRow[], now: Date): JSONWebKeySet {
    const at = now.getTime();
    if (publishedSet?.rows === rows && at >= publishedSet.from && at < publishedSet.until) {
      return publishedSet.set;
    }
    let from = Number.NEGATIVE_INFINITY;
    let until = Number.POSITIVE_INFINITY;
    for (const row of rows) {
      const ends = row.expiresAt?.getTime();
      if (ends === undefined) continue;
      if (ends > at) until = Math.min(until, ends);
      else from = Math.max(from, ends);
    }
    const set = { keys: rows.filter((r) => published(r, now)).map((r) => r.publicJwk) };
    publishedSet = { rows, from, until, set };
    return set;
  }

  /** The published set without a query, while the cached rows are fresh and one of them signs. */
  function knownKeySet(): JSONWebKeySet | undefined {
    const rows = freshRows();
    if (!rows) return undefined;
    const now = clock();
    return rows.some((r) => signing(r, now)) ? publishedAt(rows, now) : undefined;
  }

  const keySource: KeySource = {
    knownKeySet,
    async keySet(): Promise<JSONWebKeySet> {
      await ensureKey();
      return publishedAt(await loadRows(), clock());
    },
  };

  return {
    keySource,
    activeKey,

    /** Sign an RFC 9068 access token: typ at+jwt, kid, iss, aud, sub, iat, exp, jti. */
    /**
     * `notBefore` (epoch seconds) dates the token no earlier than that second: a token signed in
     * the very second its user's earlier tokens were voided must not look like one of them.
     */
    async sign(
      subject: string,
      claims: JWTPayload,
      options: { ttlSeconds?: number; notBefore?: number } = {},
    ): Promise<SignedToken> {
      const ttlSeconds = options.ttlSeconds ?? accessTokenTtlSeconds;
      const { kid, privateKey } = await activeKey();
      const issuedAt = Math.max(epochSeconds(clock()), options.notBefore ?? 0);
      const jti = randomUUID();
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: SIGNING_ALG, typ: ACCESS_TOKEN_TYPE, kid })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(subject)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + ttlSeconds)
        .setJti(jti)
        .sign(privateKey);
      return { token, jti, issuedAt, expiresAt: issuedAt + ttlSeconds };
    },

    /**
     * Start signing with a new key. `prepublishSeconds` publishes it that long before it signs, so
     * other instances' cached key sets already hold it when its first token arrives.
     */
    async rotate(
      options: { prepublishSeconds?: number } = {},
    ): Promise<{ kid: string; activatesAt: string }> {
      const now = clock();
      const activatesAt = addSeconds(now, options.prepublishSeconds ?? 0);
      const row = await newKey(activatesAt);
      await inTransaction(db, async (trx) => {
        await retireSigningKeys(trx, activatesAt, addSeconds(activatesAt, retiredKeyGraceSeconds));
        await insertSigningKey(trx, row);
        // keys whose last token expired long ago are history
        await deleteKeysExpiredBefore(trx, addSeconds(now, -86400));
      });
      forgetRows();
      return { kid: row.kid, activatesAt: activatesAt.toISOString() };
    },

    /** Forget cached rows (tests moving the clock, or after another instance rotated). */
    invalidate(): void {
      forgetRows();
    },
  };
}
