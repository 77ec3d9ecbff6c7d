import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createCache } from '../cache/cache.js';
import { createRateLimitStores, type RateLimitStores } from './rate-limit-store.js';

type Store = InstanceType<RateLimitStores['Store']>;

const incr = (store: Store, key: string, max = 4, windowMs = 60_000) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) => {
    store.incr(
      key,
      (err, res) => {
        if (err || !res) reject(err ?? new Error('no result'));
        else resolve(res);
      },
      windowMs,
      max,
    );
  });

describe('rate-limit store, in memory', () => {
  const stores = createRateLimitStores();
  afterAll(() => stores.stop());

  it('counts each client in its own window', async () => {
    const store = new stores.Store({});
    expect((await incr(store, 'a')).current).toBe(1);
    expect((await incr(store, 'a')).current).toBe(2);
    expect((await incr(store, 'b')).current).toBe(1);
    const { ttl } = await incr(store, 'a');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('starts a new window once the old one has ended', async () => {
    const store = new stores.Store({});
    await incr(store, 'c', 4, 100);
    await incr(store, 'c', 4, 100);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await incr(store, 'c', 4, 100)).current).toBe(1);
  });

  it('keeps at most maxKeys clients', async () => {
    const small = createRateLimitStores({ maxKeys: 2 });
    const store = new small.Store({});
    await incr(store, 'x');
    await incr(store, 'x');
    await incr(store, 'y');
    await incr(store, 'z'); // drops x, the oldest
    expect((await incr(store, 'x')).current).toBe(1);
    await small.stop();
  });
});

describe.skipIf(!process.env.REDIS_URL)('rate-limit store, two instances on Redis', () => {
  const cache = createCache({ redisUrl: process.env.REDIS_URL, keyPrefix: `lectern-test:${randomUUID()}:` });
  // a sync interval far beyond the test, so only the explicit sync() calls send anything
  const one = createRateLimitStores({ redis: cache.redis, syncMs: 3_600_000 });
  const two = createRateLimitStores({ redis: cache.redis, syncMs: 3_600_000 });
  afterAll(async () => {
    await one.stop();
    await two.stop();
    await cache.close();
  });

  it('adds both instances counts in Redis and each sees the sum after a sync', async () => {
    const a = new one.Store({});
    const b = new two.Store({});
    // first request of a client on an instance asks Redis at once
    expect((await incr(a, 'k')).current).toBe(1);
    expect((await incr(b, 'k')).current).toBe(2);
    // later ones are counted locally until the next sync
    expect((await incr(a, 'k')).current).toBe(2);
    expect((await incr(b, 'k')).current).toBe(3);
    // Redis holds 4 after both syncs; one synced first, so it learnt 3, two learnt 4
    await one.sync();
    await two.sync();
    expect((await incr(a, 'k')).current).toBe(4);
    expect((await incr(b, 'k')).current).toBe(5);
    // 6 in Redis once both have sent these; the one that sends last sees the whole sum, the
    // other learns it from its next read, without a request of its own
    await two.sync();
    await one.sync();
    await two.sync();
    expect((await incr(a, 'k')).current).toBe(7);
    expect((await incr(b, 'k')).current).toBe(7);
  });

  it('keeps one Redis window for both, with its expiry', async () => {
    const a = new one.Store({});
    const b = new two.Store({});
    await incr(a, 'w', 4, 60_000);
    const { ttl } = await incr(b, 'w', 4, 60_000);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('counts routes with limits of their own apart', async () => {
    // what the plugin passes at run time (its typings name the route options instead)
    const route = { routeInfo: { method: 'POST', url: '/x' } } as unknown as Parameters<Store['child']>[0];
    const a = new one.Store({}).child(route);
    expect((await incr(a, 'r')).current).toBe(1);
    const plain = new one.Store({});
    expect((await incr(plain, 'r')).current).toBe(1);
  });
});
