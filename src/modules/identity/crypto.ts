import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import {
  createKeyring,
  createSealer,
  gcmDecrypt,
  isSealed,
  SealError,
  safeEqual,
} from '../../platform/crypto.js';

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
  seal(plain: string): string;
  open(sealed: string): string;
}

/** A value that does not open; the platform's error, under the name identity code knows. */
export { SealError as SecretBoxError };

/** Key id of the HKDF-derived key in the platform format. */
const DERIVED_KEY_ID = 'identity1';

/**
 * AES-256-GCM (the platform sealer) with a key derived by HKDF-SHA256 from `secret`. Without a
 * secret, values are stored marked `plain.` so the embedded default works on a bare machine and a
 * secret can be configured later: new values are sealed, old plain ones still open. Values sealed
 * before the platform sealer existed (`v1.<iv>.<body>.<tag>`, same key, no aad) still open.
 */
export function createSecretBox(secret: string | undefined): SecretBox {
  const key = secret
    ? Buffer.from(hkdfSync('sha256', secret, 'lectern-identity', 'secret-box v1 aes-256-gcm', 32))
    : undefined;
  const sealer = key ? createSealer(createKeyring([{ id: DERIVED_KEY_ID, key }])) : undefined;
  return {
    encrypting: sealer !== undefined,
    seal(plain) {
      if (!sealer) return `plain.${Buffer.from(plain, 'utf8').toString('base64url')}`;
      return sealer.seal(plain);
    },
    open(sealed) {
      const [version, ...parts] = sealed.split('.');
      if (version === 'plain' && parts.length === 1 && parts[0] !== undefined)
        return Buffer.from(parts[0], 'base64url').toString('utf8');
      const legacy = version === 'v1' && parts.length === 3;
      if (!legacy && !isSealed(sealed)) throw new SealError('sealed value has an unknown format');
      if (!key || !sealer)
        throw new SealError('value is encrypted but no key-encryption secret is configured');
      if (!legacy) return sealer.open(sealed);
      const [iv, ciphertext, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
      return gcmDecrypt(key, { iv, ciphertext, tag }).toString('utf8');
    },
  };
}
