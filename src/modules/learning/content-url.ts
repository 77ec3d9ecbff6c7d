import path from 'node:path';
import { hmacSign, hmacVerify, loadOrCreateSecret } from '../../platform/crypto.js';

export type ContentUrlCheck = 'valid' | 'invalid' | 'expired';

/** Who a content URL was issued to: a user id, or `-` for a free preview opened anonymously. */
export const ANONYMOUS = '-';

/**
 * Signs `/lessons/:id/content` URLs bound to the lesson, the caller and an expiry: a URL for one
 * lesson cannot open another (the lesson id is in the MAC), nor outlive `exp`.
 */
export function createContentUrlSigner(secret: () => Promise<Buffer>) {
  const payload = (lessonId: string, user: string, exp: number) =>
    `lectern-lesson-content-v1\n${lessonId}\n${user}\n${exp}`;
  // the secret once it has loaded: a signature then waits for nothing (a refused secret is
  // never kept, so every signature asks again and fails as the first did)
  let loaded: Buffer | undefined;
  const key = async () => (loaded ??= await secret());
  return {
    async sign(lessonId: string, user: string, exp: number): Promise<string> {
      return hmacSign(loaded ?? (await key()), payload(lessonId, user, exp));
    },
    async verify(lessonId: string, user: string, exp: number, sig: string, nowSeconds: number) {
      const ok = hmacVerify(loaded ?? (await key()), payload(lessonId, user, exp), sig);
      if (!ok) return 'invalid' as ContentUrlCheck;
      return (nowSeconds > exp ? 'expired' : 'valid') as ContentUrlCheck;
    },
  };
}

export type ContentUrlSigner = ReturnType<typeof createContentUrlSigner>;

/**
 * The configured secret (every instance must share it), else one generated on first use and
 * kept in DATA_DIR so URLs survive a restart of a single-node install.
 */
export function loadContentUrlSecret(configured: string | undefined, dataDir: string): Promise<Buffer> {
  return loadOrCreateSecret(dataDir, path.join('learning', 'content-url.secret'), {
    configured,
    label: 'the lesson content URL secret',
  });
}
