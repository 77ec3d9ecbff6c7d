import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Longest life a signed asset URL may be given. */
export const MAX_URL_TTL_SECONDS = 24 * 3600;
const MIN_SECRET_BYTES = 32;

export type UrlCheck = 'valid' | 'invalid' | 'expired';

export interface AssetUrlSigner {
  /** Query parameters that make `/assets/:id/content` open for `ttlSeconds`. */
  sign(assetId: string, ttlSeconds: number, nowMs?: number): Promise<{ exp: number; sig: string }>;
  verify(assetId: string, exp: number, sig: string, nowMs?: number): Promise<UrlCheck>;
}

/**
 * The signing secret: the configured one (every instance must share it), else one generated
 * on first use and kept in DATA_DIR so URLs survive a restart of a single-node install.
 */
export async function loadAssetUrlSecret(configured: string | undefined, dataDir: string): Promise<Buffer> {
  if (configured) {
    const secret = Buffer.from(configured, 'utf8');
    if (secret.length < MIN_SECRET_BYTES) {
      throw new Error(`the asset URL secret must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    return secret;
  }
  const file = path.join(dataDir, 'catalog', 'asset-url.secret');
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(32);
  try {
    // wx: two processes starting at once must not overwrite each other's secret
    await writeFile(file, secret.toString('hex'), { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  }
}

export function createAssetUrlSigner(secret: () => Promise<Buffer>): AssetUrlSigner {
  const mac = async (assetId: string, exp: number) =>
    createHmac('sha256', await secret())
      .update(`lectern-asset-v1\n${assetId}\n${exp}`)
      .digest();
  return {
    async sign(assetId, ttlSeconds, nowMs = Date.now()) {
      const ttl = Math.min(Math.max(1, Math.floor(ttlSeconds)), MAX_URL_TTL_SECONDS);
      const exp = Math.floor(nowMs / 1000) + ttl;
      return { exp, sig: (await mac(assetId, exp)).toString('base64url') };
    },
    async verify(assetId, exp, sig, nowMs = Date.now()) {
      // compare the text, not decoded bytes: base64url's last character has spare bits, so
      // decoding would accept several spellings of one signature
      const given = Buffer.from(sig, 'utf8');
      const expected = Buffer.from((await mac(assetId, exp)).toString('base64url'), 'utf8');
      // the signature is checked before the expiry, so a forged URL never learns it has "expired"
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
      return Math.floor(nowMs / 1000) > exp ? 'expired' : 'valid';
    },
  };
}
