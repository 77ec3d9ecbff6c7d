// The login throttle's items of issue 8, against the cache it runs on (Redis when REDIS_URL is
// set, else in-memory): IPv6 clients are counted per /64, and the owner's sign-in does not wipe
// the account-wide count of strangers' failures.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createCache } from '../../platform/cache/cache.js';
import { THROTTLED_CODE } from './identity.errors.js';
import { createLoginThrottle, networkOf, THROTTLE_POLICY } from './throttle.js';

// a prefix per run, so a shared Redis holds nothing of other runs
const cache = createCache({ redisUrl: process.env.REDIS_URL, keyPrefix: `test:${randomUUID()}:` });
afterAll(() => cache.close());
const throttle = createLoginThrottle(cache, () => new Date());
const account = () => `${randomUUID()}@example.com`;

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => (err as { code?: string }).code,
  );

describe('IP counters', () => {
  it('keys IPv6 by /64 and IPv4 (also IPv4-mapped) by address', () => {
    expect(networkOf('2001:db8:1:2:3:4:5:6')).toBe(networkOf('2001:db8:1:2:ffff::1'));
    expect(networkOf('2001:db8:1:2::1')).not.toBe(networkOf('2001:db8:1:3::1'));
    expect(networkOf('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(networkOf('10.0.0.1')).not.toBe(networkOf('10.0.0.2'));
  });

  it('locks a /64 whose addresses each failed only once', async () => {
    const prefix = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    for (let i = 1; i <= THROTTLE_POLICY.ip.threshold; i++) {
      // a new address and a new account every time: only the network ties them together
      await throttle.fail(await throttle.check(account(), `${prefix}::${i.toString(16)}`));
    }
    expect(await refusal(throttle.check(account(), `${prefix}::ffff`))).toBe(THROTTLED_CODE);
    expect(await refusal(throttle.check(account(), `2001:db8:ffff:1::1`))).toBeUndefined();
  });
});

describe('account counters', () => {
  it('the owner’s sign-in does not reset the count of strangers’ failures', async () => {
    const victim = account();
    const stranger = () => `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    for (let i = 1; i < THROTTLE_POLICY.account.threshold; i++) {
      await throttle.fail(await throttle.check(victim, stranger()));
    }
    // the owner signs in from home
    await throttle.succeed(await throttle.check(victim, '203.0.113.7'));
    // one more stranger's failure reaches the threshold: the account locks for strangers...
    await throttle.fail(await throttle.check(victim, stranger()));
    expect(await refusal(throttle.check(victim, stranger()))).toBe(THROTTLED_CODE);
    // ...while the owner's known network is judged by its own counter
    expect(await refusal(throttle.check(victim, '203.0.113.7'))).toBeUndefined();
  });
});
