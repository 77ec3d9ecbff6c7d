import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalStorage, type Storage } from './storage.js';

let root: string;
let storage: Storage;

const text = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'lectern-storage-'));
  storage = createLocalStorage(path.join(root, 'files'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('local storage', () => {
  it('stores, reads whole and by range, sizes and deletes', async () => {
    const stored = await storage.put(
      'a/b/object',
      Readable.from([Buffer.from('hello '), Buffer.from('world')]),
    );
    expect(stored).toEqual({
      key: 'a/b/object',
      size: 11,
      sha256: 'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
    });
    expect(await text(await storage.get('a/b/object'))).toBe('hello world');
    expect(await text(await storage.get('a/b/object', { start: 6, end: 10 }))).toBe('world');
    expect(await storage.size('a/b/object')).toBe(11);
    await storage.delete('a/b/object');
    expect(await storage.size('a/b/object')).toBeUndefined();
    await expect(storage.get('a/b/object')).rejects.toMatchObject({ code: 'storage.not-found' });
  });

  it('refuses keys that could leave the root', async () => {
    for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', './a', 'a\\..\\b']) {
      await expect(storage.put(key, Readable.from([Buffer.from('x')])), key).rejects.toMatchObject({
        code: 'storage.bad-key',
      });
    }
    expect(await readdir(root)).toEqual(['files']);
  });

  it('leaves no object behind when the stream fails', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(storage.put('broken/object', failing)).rejects.toThrow('client went away');
    expect(await storage.size('broken/object')).toBeUndefined();
    expect(await readdir(path.join(root, 'files', 'broken'))).toEqual([]);
  });
});
