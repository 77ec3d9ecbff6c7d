import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContentUrlIssuer, createContentUrlSigner, loadContentUrlSecret } from './content-url.js';

// the module no longer checks the secret's length itself: the platform's loadOrCreateSecret does,
// on the first signature, naming the secret and never echoing it
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'lectern-content-url-'));
  dirs.push(dir);
  return dir;
};

describe('content URL secret', () => {
  it('refuses a configured secret shorter than 32 bytes when signing', async () => {
    const dir = await tempDir();
    const short = 'x'.repeat(31);
    const signer = createContentUrlSigner(() => loadContentUrlSecret(short, dir));
    const attempt = signer.sign('lesson', 'user', 1);
    await expect(attempt).rejects.toThrow(/the lesson content URL secret must be at least 32 bytes/);
    await attempt.catch((err: unknown) => {
      expect(String(err)).not.toContain(short);
    });
  });

  it('signs with a 32-byte secret, and the signature binds lesson, user and expiry', async () => {
    const dir = await tempDir();
    const signer = createContentUrlSigner(() => loadContentUrlSecret('k'.repeat(32), dir));
    const sig = await signer.sign('lesson-a', 'user', 100);
    expect(await signer.verify('lesson-a', 'user', 100, sig, 50)).toBe('valid');
    expect(await signer.verify('lesson-b', 'user', 100, sig, 50)).toBe('invalid');
    expect(await signer.verify('lesson-a', 'other', 100, sig, 50)).toBe('invalid');
    expect(await signer.verify('lesson-a', 'user', 100, sig, 101)).toBe('expired');
  });
});

describe('content URLs handed out', () => {
  it('repeats a caller’s URL for a lesson within 5 s of its issue, never for another lesson or caller', async () => {
    const dir = await tempDir();
    const signer = createContentUrlSigner(() => loadContentUrlSecret('k'.repeat(32), dir));
    const urls = createContentUrlIssuer(signer, 300);
    const query = (url: { contentUrl: string }) => {
      const q = new URL(url.contentUrl, 'http://x').searchParams;
      return { u: q.get('u') ?? '', exp: Number(q.get('exp')), sig: q.get('sig') ?? '' };
    };
    const first = await urls.issue('lesson-a', 'user', 1000);
    expect(first.expiresAt).toBe(new Date(1_300_000).toISOString());
    expect(query(first)).toMatchObject({ u: 'user', exp: 1300 });

    // asked again 4 s later: the same URL and expiry
    const again = await urls.issue('lesson-a', 'user', 1004);
    expect(again).toMatchObject({ contentUrl: first.contentUrl, expiresAt: first.expiresAt });
    // 5 s after the issue: a new URL, valid 300 s from now
    const later = await urls.issue('lesson-a', 'user', 1005);
    expect(later.expiresAt).toBe(new Date(1_305_000).toISOString());
    expect(query(later).exp).toBe(1305);

    // another lesson and another caller at the same moment: URLs of their own, bound to them
    const otherLesson = query(await urls.issue('lesson-b', 'user', 1005));
    expect(await signer.verify('lesson-b', 'user', otherLesson.exp, otherLesson.sig, 1005)).toBe('valid');
    expect(await signer.verify('lesson-a', 'user', otherLesson.exp, otherLesson.sig, 1005)).toBe('invalid');
    const otherUser = query(await urls.issue('lesson-a', 'someone', 1005));
    expect(otherUser.u).toBe('someone');
    expect(await signer.verify('lesson-a', 'someone', otherUser.exp, otherUser.sig, 1005)).toBe('valid');
    expect(await signer.verify('lesson-a', 'user', otherUser.exp, otherUser.sig, 1005)).toBe('invalid');

    // a clock set back before the issue gets a URL of its own, not one from its future
    expect((await urls.issue('lesson-a', 'user', 1003)).expiresAt).toBe(new Date(1_303_000).toISOString());
  });

  it('repeats a URL for a tenth of a short lifetime', async () => {
    const dir = await tempDir();
    const signer = createContentUrlSigner(() => loadContentUrlSecret('k'.repeat(32), dir));
    const urls = createContentUrlIssuer(signer, 30);
    const first = await urls.issue('lesson', 'user', 100);
    expect((await urls.issue('lesson', 'user', 102)).expiresAt).toBe(first.expiresAt);
    expect((await urls.issue('lesson', 'user', 103)).expiresAt).toBe(new Date(133_000).toISOString());
  });
});
