import { createHash, hkdfSync, randomBytes } from 'node:crypto';
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
  seal(plain: string): string;
  open(sealed: string): string;
}

/** A value that does not open; the platform's error, under the name identity code knows. */
export { SealError as SecretBoxError };

/**
 * AES-256-GCM (the platform's primitive) with a key derived by HKDF-SHA256 from `secret`, written
 * as `v1.<iv>.<body>.<tag>` (base64url), the format values in existing databases already have.
 * Without a secret, values are stored marked `plain.` so the embedded default works on a bare
 * machine and a secret can be configured later: new values are sealed, old plain ones still open.
 */
export function createSecretBox(secret: string | undefined): SecretBox {
  const key = secret
    ? Buffer.from(hkdfSync('sha256', secret, 'lectern-identity', 'secret-box v1 aes-256-gcm', 32))
    : undefined;
  return {
    encrypting: key !== undefined,
    seal(plain) {
      if (!key) return `plain.${Buffer.from(plain, 'utf8').toString('base64url')}`;
      const { iv, ciphertext, tag } = gcmEncrypt(key, Buffer.from(plain, 'utf8'));
      return ['v1', iv, ciphertext, tag]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [version, ...parts] = sealed.split('.');
      if (version === 'plain' && parts.length === 1 && parts[0] !== undefined)
        return Buffer.from(parts[0], 'base64url').toString('utf8');
      if (version !== 'v1' || parts.length !== 3) throw new SealError('sealed value has an unknown format');
      if (!key) throw new SealError('value is encrypted but no key-encryption secret is configured');
      const [iv, ciphertext, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
      return gcmDecrypt(key, { iv, ciphertext, tag }).toString('utf8');
    },
  };
}
