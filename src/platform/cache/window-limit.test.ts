import { afterAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../clock.js';
import { createCache } from './cache.js';
import { createWindowLimit } from './window-limit.js';

// against Redis when the suite has it (the production path), else the in-memory cache
const cache = createCache({
  redisUrl: process.env.REDIS_URL,
  keyPrefix: `wl-test-${process.pid}-${Date.now()}:`,
});
afterAll(() => cache.close());

describe('window limit', () => {
  it('allows max actions per key and window, then answers the seconds to the window’s end', async () => {
    const clock = createTestClock(new Date('2026-03-01T08:00:20.000Z'));
    const limit = createWindowLimit({ cache, clock, prefix: 'test:posts', max: 2, windowSeconds: 60 });
    expect(await limit.take('a')).toBeUndefined();
    expect(await limit.take('a')).toBeUndefined();
    // another key has a budget of its own
    expect(await limit.take('b')).toBeUndefined();
    // 08:00:20 in the window 08:00:00–08:01:00: 40 s left
    expect(await limit.take('a')).toBe(40);
    clock.advance(39.5);
    expect(await limit.take('a')).toBe(1);
    clock.advance(1);
    expect(await limit.take('a')).toBeUndefined();
  });
});
