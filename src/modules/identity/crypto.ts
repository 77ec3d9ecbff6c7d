import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import { ConfigError } from '../../platform/config.js';
import { gcmDecrypt, gcmEncrypt, SealError, safeEqual } from '../../platform/crypto.js';

export { safeEqual };

/** A URL-safe random secret; 32 bytes (256 bits) unless told otherwise. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/**
 * Digest of a high-entropy secret (refresh tokens, one-time tokens, client secrets, recovery
 * codes). A slow hash buys nothing when the secret itself has ≥ 80 random bits.
 */
export const sha256 = (value: string): string =>
  createHash('sha256').update(value, 'utf8').digest('base64url');

/** Seals values stored at rest (signing keys, TOTP secrets) under a key derived from one secret. */
export interface SecretBox {
  /** True when values are really encrypted (a secret was configured). */
  readonly encrypting: boolean;
  /** True when previous secrets are configured: values sealed under them wait to be resealed. */
  readonly rotating: boolean;
  /** Under the current secret (or `plain.` without one). */
  seal(plain: string): string;
  /** With the current secret, else each previous one; SecretBoxError when none opens it. */
  open(sealed: string): string;
  /**
   * `stale` when the value should be sealed again under the current secret: it is `plain.` while a
   * secret is set, or only a previous secret opens it; `unreadable` when no configured key opens it.
   */
  state(sealed: string): 'current' | 'stale' | 'unreadable';
  /** `state(sealed) === 'stale'`: false for a value no key opens. */
  needsReseal(sealed: string): boolean;
}

/** A value that does not open; the platform's error, under the name identity code knows. */
export { SealError as SecretBoxError };

const deriveKey = (secret: string): Buffer =>
  Buffer.from(hkdfSync('sha256', secret, 'lectern-identity', 'secret-box v1 aes-256-gcm', 32));

type Parsed =
  | { kind: 'plain'; text: string }
  | { kind: 'v1'; iv: Buffer; ciphertext: Buffer; tag: Buffer }
  | { kind: 'unknown' };

function parse(sealed: string): Parsed {
  const [version, ...parts] = sealed.split('.');
  if (version === 'plain' && parts.length === 1 && parts[0] !== undefined)
    return { kind: 'plain', text: Buffer.from(parts[0], 'base64url').toString('utf8') };
  if (version !== 'v1' || parts.length !== 3) return { kind: 'unknown' };
  const [iv, ciphertext, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  return { kind: 'v1', iv, ciphertext, tag };
}

/**
 * AES-256-GCM (the platform's primitive) with a key derived by HKDF-SHA256 from `secret`, written
 * as `v1.<iv>.<body>.<tag>` (base64url), the format values in existing databases already have.
 * Without a secret, values are stored marked `plain.` so the embedded default works on a bare
 * machine and a secret can be configured later: new values are sealed, old plain ones still open.
 *
 * `previous` secrets only open: after a rotation, values sealed under an earlier secret keep
 * opening until the reseal job has sealed them again under `secret`. `v1` names no key, so each
 * key is tried in turn; GCM's tag refuses every key but the right one.
 */
export function createSecretBox(secret: string | undefined, previous: readonly string[] = []): SecretBox {
  if (!secret && previous.length > 0) {
    // previous secrets only open: sealing would silently fall back to storing values unsealed
    throw new ConfigError([
      'IDENTITY_KEY_SECRET_PREVIOUS is set but IDENTITY_KEY_SECRET is not: set the new secret in ' +
        'IDENTITY_KEY_SECRET and keep only earlier ones in IDENTITY_KEY_SECRET_PREVIOUS',
    ]);
  }
  const key = secret ? deriveKey(secret) : undefined;
  const previousKeys = previous.map(deriveKey);

  /** The plain text and whether the current key (or none, for `plain.`) opened it; undefined when nothing does. */
  function tryOpen(sealed: string): { plain: string; byCurrent: boolean } | undefined {
    const parsed = parse(sealed);
    if (parsed.kind === 'plain') return { plain: parsed.text, byCurrent: key === undefined };
    if (parsed.kind !== 'v1' || !key) return undefined;
    for (const [index, candidate] of [key, ...previousKeys].entries()) {
      try {
        return { plain: gcmDecrypt(candidate, parsed).toString('utf8'), byCurrent: index === 0 };
      } catch (err) {
        if (!(err instanceof SealError)) throw err;
      }
    }
    return undefined;
  }

  function state(sealed: string): 'current' | 'stale' | 'unreadable' {
    const opened = tryOpen(sealed);
    if (!opened) return 'unreadable';
    return opened.byCurrent ? 'current' : 'stale';
  }

  return {
    encrypting: key !== undefined,
    rotating: previousKeys.length > 0,
    seal(plain) {
      if (!key) return `plain.${Buffer.from(plain, 'utf8').toString('base64url')}`;
      const { iv, ciphertext, tag } = gcmEncrypt(key, Buffer.from(plain, 'utf8'));
      return ['v1', iv, ciphertext, tag]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const opened = tryOpen(sealed);
      if (opened) return opened.plain;
      const kind = parse(sealed).kind;
      if (kind === 'unknown') throw new SealError('sealed value has an unknown format');
      if (!key) throw new SealError('value is encrypted but no key-encryption secret is configured');
      throw new SealError(
        'sealed value does not open with the current or a previous secret: wrong key, or it was altered',
      );
    },
    state,
    needsReseal: (sealed) => state(sealed) === 'stale',
  };
}
