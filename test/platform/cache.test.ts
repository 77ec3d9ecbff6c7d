import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../src/platform/cache/cache.js';

const caches: Cache[] = [createCache({})];
if (process.env.REDIS_URL)
  caches.push(createCache({ redisUrl: process.env.REDIS_URL, keyPrefix: `test:${randomUUID()}:` }));

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()));
});

describe.each(caches.map((c) => [c.kind, c] as const))('%s cache', (_kind, cache) => {
  it('stores JSON values until they expire', async () => {
    await cache.set('course:1', { title: '编程入门', price: 9900 }, 60);
    expect(await cache.get('course:1')).toEqual({ title: '编程入门', price: 9900 });
    await cache.del('course:1');
    expect(await cache.get('course:1')).toBeUndefined();
  });

  it('expires entries after their time to live', async () => {
    await cache.set('short', 1, 1);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await cache.get('short')).toBeUndefined();
  });

  it('counts atomically within a window', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.incr('counter', 60)));
    expect(results.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await cache.incr('counter', 60, 5)).toBe(15);
  });
});

describe('memory cache', () => {
  it('keeps within its byte bound by dropping the least recently used entries', async () => {
    const cache = createCache({ memoryBytes: 1024 * 1024 });
    const value = 'x'.repeat(100 * 1024);
    for (let i = 0; i < 20; i++) await cache.set(`list:${i}`, value, 60);
    const kept: number[] = [];
    for (let i = 0; i < 20; i++) if ((await cache.get(`list:${i}`)) !== undefined) kept.push(i);
    // 20 values of 100 KB do not fit in 1 MB: the oldest went, the newest stayed
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(11);
    expect(kept).toContain(19);
    expect(kept).not.toContain(0);
    await cache.close();
  });

  it('reads a value at once with peek, as get would, and nothing once it is gone', async () => {
    const cache = createCache({});
    expect(cache.peek?.('gen')).toBeUndefined();
    await cache.incr('gen', 60);
    await cache.incr('gen', 60);
    expect(cache.peek?.('gen')).toBe(2);
    await cache.set('page', { items: [1, 2] }, 60);
    expect(cache.peek?.('page')).toEqual(await cache.get('page'));
    await cache.del('page');
    expect(cache.peek?.('page')).toBeUndefined();
    await cache.close();
  });
});
