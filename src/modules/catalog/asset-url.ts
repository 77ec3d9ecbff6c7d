import { createHmac, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import { loadOrCreateSecret } from '../../platform/crypto.js';

/** Longest life a signed asset URL may be given. */
export const MAX_URL_TTL_SECONDS = 24 * 3600;

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
export function loadAssetUrlSecret(configured: string | undefined, dataDir: string): Promise<Buffer> {
  return loadOrCreateSecret(dataDir, path.join('catalog', 'asset-url.secret'), {
    configured,
    label: 'the asset URL secret',
  });
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
