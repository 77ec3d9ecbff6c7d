import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createKeyring,
  createSealer,
  generateKey,
  hmacSign,
  hmacVerify,
  KeyringError,
  loadOrCreateSecret,
  MIN_SECRET_BYTES,
  parseKeyring,
  SealError,
  safeEqual,
} from './crypto.js';

const keyA = generateKey();
const keyB = generateKey();

function flip(sealed: string, index: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('keyring', () => {
  it('reads kid:base64key pairs, first is current, base64 and base64url alike', () => {
    const urlSafe = randomBytes(32).toString('base64url');
    const ring = parseKeyring(` k2:${keyB} , k1:${keyA},old_1:${urlSafe}`);
    expect(ring.current.id).toBe('k2');
    expect(ring.keys.map((k) => k.id)).toEqual(['k2', 'k1', 'old_1']);
    expect(ring.get('k1')?.key.equals(Buffer.from(keyA, 'base64'))).toBe(true);
    expect(ring.get('old_1')?.key.equals(Buffer.from(urlSafe, 'base64url'))).toBe(true);
  });

  it('refuses empty rings, bad ids, short keys, duplicates and non-base64, without echoing keys', () => {
    const bad = [
      '',
      ',',
      `nokey`,
      `:${keyA}`,
      `a.b:${keyA}`,
      `k1:${randomBytes(16).toString('base64')}`,
      `k1:${keyA},k1:${keyB}`,
      'k1:not base64!',
    ];
    for (const spec of bad) {
      expect(() => parseKeyring(spec), spec).toThrow(KeyringError);
    }
    try {
      parseKeyring(`k1:${randomBytes(16).toString('base64')}x`);
    } catch (err) {
      expect(String(err)).not.toContain(keyA);
    }
    expect(() => createKeyring([])).toThrow(KeyringError);
  });
});

describe('sealer', () => {
  it('seals with the current key id and opens to the same text; each seal differs', () => {
    const sealer = createSealer(`k1:${keyA}`);
    const one = sealer.seal('银行卡 4242 ✓');
    const two = sealer.seal('银行卡 4242 ✓');
    expect(one.startsWith('s1.k1.')).toBe(true);
    expect(one).not.toBe(two);
    expect(one).not.toContain('4242');
    expect(sealer.open(one)).toBe('银行卡 4242 ✓');
    expect(sealer.open(sealer.seal(''))).toBe('');
  });

  it('binds the aad: the same aad opens, another or none does not', () => {
    const sealer = createSealer(`k1:${keyA}`);
    const sealed = sealer.seal('secret', 'user:42');
    expect(sealer.open(sealed, 'user:42')).toBe('secret');
    expect(() => sealer.open(sealed, 'user:43')).toThrow(SealError);
    expect(() => sealer.open(sealed)).toThrow(SealError);
    expect(() => sealer.open(sealer.seal('secret'), 'user:42')).toThrow(SealError);
  });

  it('refuses any altered part, a relabelled key id and garbage', () => {
    const ring = `k1:${keyA},k2:${keyA}`; // same key under two ids: only the label differs
    const sealer = createSealer(ring);
    const sealed = sealer.seal('secret');
    for (const index of [2, 3, 4]) expect(() => sealer.open(flip(sealed, index))).toThrow(SealError);
    expect(() => sealer.open(sealed.replace('s1.k1.', 's1.k2.'))).toThrow(SealError);
    expect(() => sealer.open(sealed.replace('s1.', 's2.'))).toThrow(SealError);
    for (const junk of ['', 'plain', 's1.k1.a.b', `${sealed}.x`, 's1.k1...']) {
      expect(() => sealer.open(junk)).toThrow(SealError);
    }
  });

  it('rotates: a new current key opens old values by their id and reports them for reseal', () => {
    const before = createSealer(`k1:${keyA}`);
    const old = before.seal('card token', 'order:1');
    const after = createSealer(parseKeyring(`k2:${keyB},k1:${keyA}`));
    expect(after.open(old, 'order:1')).toBe('card token');
    expect(after.needsReseal(old)).toBe(true);
    const resealed = after.seal(after.open(old, 'order:1'), 'order:1');
    expect(resealed.startsWith('s1.k2.')).toBe(true);
    expect(after.needsReseal(resealed)).toBe(false);
    // once k1 is dropped, its values no longer open
    expect(() => createSealer(`k2:${keyB}`).open(old, 'order:1')).toThrow(/not in the keyring/);
    // a different key under the same id does not open it either
    expect(() => createSealer(`k1:${keyB}`).open(old, 'order:1')).toThrow(SealError);
  });
});

describe('hmac and constant-time comparison', () => {
  it('signs and verifies; another key, body or signature fails', () => {
    const sig = hmacSign('webhook-key', '{"a":1}');
    expect(sig).toBe(hmacSign(Buffer.from('webhook-key'), Buffer.from('{"a":1}')));
    // RFC 4231 test case 2, as base64url
    expect(hmacSign('Jefe', 'what do ya want for nothing?')).toBe(
      Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex').toString(
        'base64url',
      ),
    );
    expect(hmacVerify('webhook-key', '{"a":1}', sig)).toBe(true);
    expect(hmacVerify('other-key', '{"a":1}', sig)).toBe(false);
    expect(hmacVerify('webhook-key', '{"a":2}', sig)).toBe(false);
    expect(hmacVerify('webhook-key', '{"a":1}', `${sig}A`)).toBe(false);
    expect(hmacVerify('webhook-key', '{"a":1}', '')).toBe(false);
  });

  it('compares strings of any length without throwing', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
    expect(safeEqual('é', 'e\u0301')).toBe(false);
    expect(safeEqual('x'.repeat(10_000), 'x'.repeat(10_000))).toBe(true);
  });
});

describe('loadOrCreateSecret', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'lectern-secret-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('uses a configured secret as given and writes no file', async () => {
    const dir = await tempDir();
    const configured = 'k'.repeat(MIN_SECRET_BYTES);
    const secret = await loadOrCreateSecret(dir, 'mod/x.secret', { configured });
    expect(secret.toString('utf8')).toBe(configured);
    await expect(stat(path.join(dir, 'mod', 'x.secret'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a configured secret shorter than the minimum, naming it but not echoing it', async () => {
    const dir = await tempDir();
    const short = 's'.repeat(MIN_SECRET_BYTES - 1);
    const attempt = loadOrCreateSecret(dir, 'mod/x.secret', { configured: short, label: 'the test secret' });
    await expect(attempt).rejects.toThrow(/the test secret must be at least 32 bytes/);
    await attempt.catch((err: unknown) => {
      expect(String(err)).not.toContain(short);
    });
  });

  it('generates once, keeps it private to the owner, and returns the same bytes on every later call', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateSecret(dir, 'mod/x.secret');
    expect(first.length).toBe(MIN_SECRET_BYTES);
    const file = path.join(dir, 'mod', 'x.secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'hex').equals(first)).toBe(true);
    expect((await loadOrCreateSecret(dir, 'mod/x.secret')).equals(first)).toBe(true);
    // another name is another secret
    expect((await loadOrCreateSecret(dir, 'other/y.secret')).equals(first)).toBe(false);
  });

  it('gives every concurrent first caller the one secret that reached the disk', async () => {
    // many rounds: a reader that could meet the file half-written did so in about one run in ten
    for (let round = 0; round < 40; round++) {
      const dir = await tempDir();
      const all = await Promise.all(Array.from({ length: 32 }, () => loadOrCreateSecret(dir, 'race.secret')));
      const onDisk = Buffer.from((await readFile(path.join(dir, 'race.secret'), 'utf8')).trim(), 'hex');
      for (const secret of all) expect(secret.equals(onDisk)).toBe(true);
      // nothing left behind but the secret
      expect(await readdir(dir)).toEqual(['race.secret']);
    }
  });

  it('refuses a stored secret that is too short rather than signing with it', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'short.secret'), 'abcd');
    await expect(loadOrCreateSecret(dir, 'short.secret')).rejects.toThrow(/fewer than 32 bytes/);
  });
});
