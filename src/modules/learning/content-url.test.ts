import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createContentUrlSigner, loadContentUrlSecret } from './content-url.js';

// the module no longer checks the secret's length itself: the platform's loadOrCreateSecret does,
// on the first signature, naming the secret and never echoing it
describe('content URL secret', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lectern-content-url-'));
    dirs.push(dir);
    return dir;
  };

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
