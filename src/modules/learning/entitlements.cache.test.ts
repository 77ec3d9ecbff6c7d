import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type Cache, createCache } from '../../platform/cache/cache.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { createEntitlementCopy, type EntitlementCopy } from './entitlements.cache.js';

const logger = pino({ level: 'silent' });
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close();
});

function instance(cache: Cache, channel: string): EntitlementCopy {
  const copy = createEntitlementCopy({ cache, logger, ttlSeconds: 60, boundMs: 400, channel });
  opened.push(copy);
  return copy;
}

describe('entitlement copy in the process', () => {
  it('without Redis: keeps answers, drops them at once, and does not keep a load that raced a drop', async () => {
    const cache = createCache({});
    opened.push(cache);
    const copy = instance(cache, 'unused');
    const [u, c] = [randomUUID(), randomUUID()];
    copy.set(u, c, true, copy.generation());
    expect(copy.get(u, c)).toBe(true);
    await copy.drop([{ userId: u, courseId: c }]);
    expect(copy.get(u, c)).toBeUndefined();

    const before = copy.generation();
    await copy.drop([{ userId: randomUUID(), courseId: c }]);
    copy.set(u, c, true, before); // loaded before that drop: not kept
    expect(copy.get(u, c)).toBeUndefined();
  });

  it('with Redis: a drop on one instance reaches the other; a copy whose subscription is gone is not trusted', async () => {
    const channel = `lectern-test:entitlements:${randomUUID()}`;
    const cacheA = createCache({ redisUrl, keyPrefix: `lectern-test:${randomUUID()}:` });
    const cacheB = createCache({ redisUrl, keyPrefix: `lectern-test:${randomUUID()}:` });
    opened.push(cacheA, cacheB);
    const a = instance(cacheA, channel);
    const b = instance(cacheB, channel);
    const [u, c] = [randomUUID(), randomUUID()];

    // trusted once its own heartbeat came back
    await waitFor(() => {
      a.set(u, c, true, a.generation());
      return a.get(u, c) === true;
    }, 'instance A trusting its copy');
    await waitFor(() => {
      b.set(u, c, true, b.generation());
      return b.get(u, c) === true;
    }, 'instance B trusting its copy');

    // revoked through A: A refuses at once, B once the message arrives (well within the bound)
    await a.drop([{ userId: u, courseId: c }]);
    expect(a.get(u, c)).toBeUndefined();
    await waitFor(() => b.get(u, c) === undefined, 'the drop reaching instance B');
  });

  it('with Redis: nothing is answered from the copy once heartbeats stop coming back', async () => {
    const channel = `lectern-test:entitlements:${randomUUID()}`;
    const cache = createCache({ redisUrl, keyPrefix: `lectern-test:${randomUUID()}:` });
    opened.push(cache);
    const copy = instance(cache, channel);
    const [u, c] = [randomUUID(), randomUUID()];
    await waitFor(() => {
      copy.set(u, c, true, copy.generation());
      return copy.get(u, c) === true;
    }, 'the copy being trusted');
    // its connections closed: no heartbeat comes back, so within the bound the copy is not used
    await copy.close();
    await waitFor(() => copy.get(u, c) === undefined, 'the copy no longer trusted');
  });
});
