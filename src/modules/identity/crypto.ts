import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

/** A URL-safe random secret; 32 bytes (256 bits) unless told otherwise. */
export const randomToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/**
 * Digest of a high-entropy secret (refresh tokens, one-time tokens, client secrets, recovery
 * codes). A slow hash buys nothing when the secret itself has ≥ 80 random bits.
 */
export const sha256 = (value: string): string =>
  createHash('sha256').update(value, 'utf8').digest('base64url');

export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Seals values stored at rest (signing keys, TOTP secrets) under a key derived from one secret. */
export interface SecretBox {
  /** True when values are really encrypted (a secret was configured). */
  readonly encrypting: boolean;
  seal(plain: string): string;
  open(sealed: string): string;
}

export class SecretBoxError extends Error {}

/**
 * AES-256-GCM with a key derived by HKDF-SHA256 from `secret`. Without a secret, values are
 * stored marked `plain.` so the embedded default works on a bare machine and a secret can be
 * configured later: new values are sealed, old plain ones still open.
 */
export function createSecretBox(secret: string | undefined): SecretBox {
  const key = secret
    ? Buffer.from(hkdfSync('sha256', secret, 'lectern-identity', 'secret-box v1 aes-256-gcm', 32))
    : undefined;
  return {
    encrypting: key !== undefined,
    seal(plain) {
      if (!key) return `plain.${Buffer.from(plain, 'utf8').toString('base64url')}`;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v1', iv, body, cipher.getAuthTag()]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed) {
      const [version, ...parts] = sealed.split('.');
      if (version === 'plain' && parts[0] !== undefined)
        return Buffer.from(parts[0], 'base64url').toString('utf8');
      if (version !== 'v1' || parts.length !== 3)
        throw new SecretBoxError('sealed value has an unknown format');
      if (!key) throw new SecretBoxError('value is encrypted but no key-encryption secret is configured');
      const [iv, body, tag] = parts.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAuthTag(tag);
        return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('value does not open with the configured key-encryption secret');
      }
    },
  };
}
