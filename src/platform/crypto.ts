import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A sealed value that does not open: unknown format, unknown key id, wrong key or aad, tampered. */
export class SealError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SealError';
  }
}

/** A keyring description that cannot be used; the message never contains key material. */
export class KeyringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringError';
  }
}

export interface KeyringKey {
  /** Short name carried in every sealed value, so the right key is found after a rotation. */
  readonly id: string;
  /** 32 bytes, for AES-256. */
  readonly key: Buffer;
}

/** Keys by id; `current` seals, every key opens. */
export interface Keyring {
  readonly current: KeyringKey;
  readonly keys: readonly KeyringKey[];
  get(id: string): KeyringKey | undefined;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function createKeyring(keys: readonly KeyringKey[]): Keyring {
  const [current] = keys;
  if (!current) throw new KeyringError('a keyring needs at least one key');
  const byId = new Map<string, KeyringKey>();
  for (const k of keys) {
    if (!KEY_ID.test(k.id)) throw new KeyringError(`key id ${JSON.stringify(k.id)} must match ${KEY_ID}`);
    if (k.key.length !== KEY_BYTES) throw new KeyringError(`key ${k.id} must be ${KEY_BYTES} bytes`);
    if (byId.has(k.id)) throw new KeyringError(`key id ${k.id} appears twice`);
    byId.set(k.id, k);
  }
  return { current, keys: [...keys], get: (id) => byId.get(id) };
}

/**
 * Read a keyring from one environment value: `kid:base64key[,kid:base64key…]`. The FIRST key is
 * the current one (new values are sealed with it); the others only open older values. Key ids
 * are 1–32 of `A-Z a-z 0-9 _ -`; keys are 32 random bytes in base64 or base64url
 * (`openssl rand -base64 32`). To rotate: put a new key first, keep the old ones after it,
 * reseal what `needsReseal` reports, then drop the old key.
 * Example: `2026b:q83vEjRm…=,2026a:Fm1k…=`.
 */
export function parseKeyring(spec: string): Keyring {
  const entries = spec
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  return createKeyring(
    entries.map((entry, index) => {
      const colon = entry.indexOf(':');
      if (colon <= 0) throw new KeyringError(`keyring entry ${index + 1} is not kid:base64key`);
      const id = entry.slice(0, colon);
      const encoded = entry.slice(colon + 1);
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
        throw new KeyringError(`key ${id} is not base64`);
      }
      // Node decodes base64 and base64url alike when asked for 'base64'
      return { id, key: Buffer.from(encoded, 'base64') };
    }),
  );
}

/** A fresh random key for a keyring, base64-encoded. */
export const generateKey = (): string => randomBytes(KEY_BYTES).toString('base64');

/** AES-256-GCM parts of one sealed value; `aad` is authenticated but not stored. */
export interface GcmParts {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export function gcmEncrypt(key: Buffer, plaintext: Buffer, aad?: Buffer): GcmParts {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/** Throws SealError when the tag does not match (wrong key, wrong aad, tampered). */
export function gcmDecrypt(key: Buffer, parts: GcmParts, aad?: Buffer): Buffer {
  if (parts.iv.length !== IV_BYTES || parts.tag.length !== TAG_BYTES) {
    throw new SealError('sealed value has a malformed iv or tag');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES });
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]);
  } catch {
    throw new SealError('sealed value does not open: wrong key or aad, or it was altered');
  }
}

/** Seals values stored at rest under a keyring, so keys can rotate without losing old values. */
export interface Sealer {
  /** `s1.<kid>.<iv>.<ciphertext>.<tag>` (base64url parts) under the current key. */
  seal(plaintext: string, aad?: string): string;
  /** Opens with the key the value names; the same `aad` as at sealing must be given. */
  open(sealed: string, aad?: string): string;
  /** True when the value was sealed with a key other than the current one (reseal it). */
  needsReseal(sealed: string): boolean;
}

const FORMAT = 's1';

// the format and key id are authenticated with the caller's aad, so a value cannot be relabelled
const aadFor = (kid: string, aad: string | undefined): Buffer =>
  Buffer.from(`${FORMAT}.${kid}\u0000${aad ?? ''}`, 'utf8');

function parseSealed(sealed: string): { kid: string; parts: GcmParts } {
  const pieces = sealed.split('.');
  const [format, kid, iv, ciphertext, tag] = pieces;
  if (
    pieces.length !== 5 ||
    format !== FORMAT ||
    kid === undefined ||
    iv === undefined ||
    ciphertext === undefined ||
    tag === undefined
  ) {
    throw new SealError('sealed value has an unknown format');
  }
  return {
    kid,
    parts: {
      iv: Buffer.from(iv, 'base64url'),
      ciphertext: Buffer.from(ciphertext, 'base64url'),
      tag: Buffer.from(tag, 'base64url'),
    },
  };
}

/** True when the text looks like a value `Sealer.seal` made (whatever its key). */
export const isSealed = (text: string): boolean => text.startsWith(`${FORMAT}.`);

export function createSealer(keyring: Keyring | string): Sealer {
  const ring = typeof keyring === 'string' ? parseKeyring(keyring) : keyring;
  return {
    seal(plaintext, aad) {
      const { id, key } = ring.current;
      const { iv, ciphertext, tag } = gcmEncrypt(key, Buffer.from(plaintext, 'utf8'), aadFor(id, aad));
      return [
        FORMAT,
        id,
        iv.toString('base64url'),
        ciphertext.toString('base64url'),
        tag.toString('base64url'),
      ].join('.');
    },
    open(sealed, aad) {
      const { kid, parts } = parseSealed(sealed);
      const entry = ring.get(kid);
      if (!entry)
        throw new SealError(`sealed value names key ${JSON.stringify(kid)}, which is not in the keyring`);
      return gcmDecrypt(entry.key, parts, aadFor(kid, aad)).toString('utf8');
    },
    needsReseal(sealed) {
      return parseSealed(sealed).kid !== ring.current.id;
    },
  };
}

/** HMAC-SHA256 of `data`, base64url. For webhooks, signed URLs, anything a peer must not forge. */
export function hmacSign(key: string | Buffer, data: string | Buffer): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

/** Constant-time check of a base64url HMAC-SHA256 signature made by `hmacSign`. */
export function hmacVerify(key: string | Buffer, data: string | Buffer, signature: string): boolean {
  return safeEqual(hmacSign(key, data), signature);
}

/**
 * Compare two strings without leaking where they differ, or (unlike a bare timingSafeEqual,
 * which throws on different lengths) how long the secret one is: both sides are hashed to the
 * same length first.
 */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  // the hash comparison is constant-time; the final equality rules out a collision of the digests
  return timingSafeEqual(ha, hb) && a === b;
}

/** Shortest configured secret `loadOrCreateSecret` accepts: 32 bytes, as many as it generates. */
export const MIN_SECRET_BYTES = 32;

/**
 * A signing secret: the configured one (every instance must share it; refused when shorter than
 * MIN_SECRET_BYTES), else 32 random bytes generated on first use and kept in
 * `<dataDir>/<name>` so signatures survive a restart of a single-node install.
 * `name` is a relative path such as `catalog/asset-url.secret`; `label` names the secret in the
 * error, never its value.
 */
export async function loadOrCreateSecret(
  dataDir: string,
  name: string,
  options: { configured?: string | undefined; label?: string } = {},
): Promise<Buffer> {
  if (options.configured !== undefined && options.configured !== '') {
    const secret = Buffer.from(options.configured, 'utf8');
    if (secret.length < MIN_SECRET_BYTES) {
      throw new Error(`${options.label ?? name} must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    return secret;
  }
  const file = path.join(dataDir, name);
  const read = async () => {
    const stored = Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
    // a truncated or hand-edited file must not quietly become a weak key
    if (stored.length < MIN_SECRET_BYTES)
      throw new Error(`${file} holds fewer than ${MIN_SECRET_BYTES} bytes`);
    return stored;
  };
  try {
    return await read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(MIN_SECRET_BYTES);
  /** Make the real name; when another caller made it first, theirs is the secret. */
  const claim = async (create: () => Promise<unknown>) => {
    try {
      await create();
      return secret;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return await read();
    }
  };
  // written whole under a name of its own, then linked to the real name: link() refuses an
  // existing name, so two processes starting at once never overwrite each other's secret, and a
  // reader never meets a file still being written (with `wx` on the real name it could, and took
  // the empty file for a truncated one)
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(draft, secret.toString('hex'), { flag: 'wx', mode: 0o600 });
  try {
    return await claim(() => link(draft, file));
  } catch {
    // a file system without hard links (FAT, some network shares): create the real name itself
    return await claim(() => writeFile(file, secret.toString('hex'), { flag: 'wx', mode: 0o600 }));
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}
