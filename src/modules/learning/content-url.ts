import path from 'node:path';
import { LRUCache } from 'lru-cache';
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

/** A content URL as the access answer carries it. */
export interface ContentUrl {
  contentUrl: string;
  expiresAt: string;
}

interface Issued extends ContentUrl {
  issuedAt: number;
}

/**
 * Content URLs handed to callers, each valid `seconds` from its issue. A caller who asks again for
 * the same lesson within `reuseSeconds` of an issue (a tenth of `seconds`, at most 5) gets that
 * same URL, with its expiry a few seconds nearer, rather than a new signature: it opens nothing the
 * caller was not just given, and a repeated ask costs no HMAC, the largest part of a warm access
 * check's own CPU. Whether the caller may still open the lesson is decided before, on every ask.
 */
export function createContentUrlIssuer(signer: ContentUrlSigner, seconds: number) {
  const reuseSeconds = Math.min(5, Math.floor(seconds / 10));
  // a few seconds of asks: far fewer than this many callers × lessons (about 4 MB when full)
  const recent = new LRUCache<string, Issued>({ max: 10_000 });
  async function issueNew(
    key: string,
    lessonId: string,
    user: string,
    nowSeconds: number,
  ): Promise<ContentUrl> {
    const exp = nowSeconds + seconds;
    const sig = await signer.sign(lessonId, user, exp);
    const issued = {
      // a template rather than URLSearchParams (a tenth of its cost): the user is a uuid or `-`,
      // the expiry digits and the signature base64url, none of which a query string escapes
      contentUrl: `/api/v1/lessons/${lessonId}/content?u=${encodeURIComponent(user)}&exp=${exp}&sig=${sig}`,
      expiresAt: new Date(exp * 1000).toISOString(),
      issuedAt: nowSeconds,
    };
    recent.set(key, issued);
    return issued;
  }
  return {
    /**
     * The URL for this caller and lesson at `nowSeconds`: the one issued within `reuseSeconds`
     * as a plain value (a repeated ask waits for nothing), else a new one.
     */
    issue(lessonId: string, user: string, nowSeconds: number): ContentUrl | Promise<ContentUrl> {
      const key = `${user} ${lessonId}`;
      const kept = recent.get(key);
      // a clock set back (tests) must not hand out a URL issued in its future
      if (kept && kept.issuedAt <= nowSeconds && nowSeconds < kept.issuedAt + reuseSeconds) return kept;
      return issueNew(key, lessonId, user, nowSeconds);
    },
  };
}

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
