import ipaddr from 'ipaddr.js';
import type { Cache } from '../../platform/cache/cache.js';
import type { Clock } from './context.js';
import { sha256 } from './crypto.js';
import { IdentityErrors } from './identity.errors.js';

/**
 * Login throttling; the design and its reasons are in CONTEXT.md ("Throttling"). In short:
 * failures are counted per account, per IP, and per account-on-a-known-IP; past a threshold each
 * further failure locks that bucket for an exponentially growing time with a cap; counters
 * expire; a success clears the account's counter on that network only; a network (IPv4 address or
 * IPv6 /64) the account signed in from before is judged by its own bucket, so strangers cannot
 * lock the owner out of their usual network.
 */
export interface BucketPolicy {
  /** Failures allowed before the first lock. */
  threshold: number;
  /** First lock length; doubles with each further failure. */
  baseSeconds: number;
  capSeconds: number;
  /** Counters expire this long after the first failure. */
  windowSeconds: number;
}

export const THROTTLE_POLICY = {
  account: { threshold: 5, baseSeconds: 30, capSeconds: 15 * 60, windowSeconds: 24 * 3600 },
  ip: { threshold: 20, baseSeconds: 60, capSeconds: 15 * 60, windowSeconds: 3600 },
  knownDeviceDays: 30,
} as const;

interface Bucket {
  name: string;
  policy: BucketPolicy;
}

export interface ThrottleTicket {
  buckets: Bucket[];
  accountHash: string;
  /** The caller's network: an IPv4 address, or an IPv6 /64. */
  network: string;
}

/**
 * The unit an IP counter keys on. One IPv6 client usually holds a whole /64 and can pick any
 * address in it, so IPv6 is counted per /64; IPv4-mapped IPv6 counts as its IPv4 address.
 * Parsed with ipaddr.js, the parser Fastify's proxy-addr already uses for client addresses.
 */
export function networkOf(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip);
  if (address.kind() === 'ipv4') return address.toString();
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toNormalizedString()}/64`).toString()}/64`;
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;

export function createLoginThrottle(cache: Cache, clock: Clock) {
  const failKey = (bucket: string) => `identity:throttle:fails:${bucket}`;
  const lockKey = (bucket: string) => `identity:throttle:lock:${bucket}`;
  const knownKey = (accountHash: string, network: string) =>
    `identity:throttle:known:${accountHash}:${network}`;

  /** Refuse (429) while any of the ticket's buckets is locked. */
  async function assertOpen(ticket: ThrottleTicket): Promise<void> {
    const now = clock().getTime();
    for (const bucket of ticket.buckets) {
      const lock = await cache.get<{ until: number }>(lockKey(bucket.name));
      if (lock && lock.until > now) {
        const retryAfterSeconds = Math.max(1, Math.ceil((lock.until - now) / 1000));
        throw IdentityErrors.throttled(retryAfterSeconds);
      }
    }
  }

  return {
    /** Refuse (429) while a bucket is locked; otherwise hand back the buckets to charge. */
    async check(account: string, ip: string): Promise<ThrottleTicket> {
      // hashed so raw email addresses never sit in Redis keys
      const accountHash = sha256(account).slice(0, 32);
      const network = networkOf(ip);
      const known = (await cache.get<boolean>(knownKey(accountHash, network))) === true;
      const buckets: Bucket[] = [
        { name: `ip:${network}`, policy: THROTTLE_POLICY.ip },
        known
          ? { name: `acct-ip:${accountHash}:${network}`, policy: THROTTLE_POLICY.account }
          : { name: `acct:${accountHash}`, policy: THROTTLE_POLICY.account },
      ];
      const ticket = { buckets, accountHash, network };
      await assertOpen(ticket);
      return ticket;
    },

    assertOpen,

    async fail(ticket: ThrottleTicket): Promise<void> {
      for (const { name, policy } of ticket.buckets) {
        const failures = await cache.incr(failKey(name), policy.windowSeconds);
        if (failures < policy.threshold) continue;
        const seconds = Math.min(policy.baseSeconds * 2 ** (failures - policy.threshold), policy.capSeconds);
        await cache.set(lockKey(name), { until: clock().getTime() + seconds * 1000 }, seconds);
      }
    },

    /**
     * The owner proved the password: wipe the counter of the account on this network and remember
     * the network. The account-wide counter stays: it counts strangers' guesses from elsewhere,
     * and the owner's success here says nothing about those.
     */
    async succeed(ticket: ThrottleTicket): Promise<void> {
      const bucket = `acct-ip:${ticket.accountHash}:${ticket.network}`;
      await cache.del(failKey(bucket), lockKey(bucket));
      await cache.set(
        knownKey(ticket.accountHash, ticket.network),
        true,
        THROTTLE_POLICY.knownDeviceDays * 86400,
      );
    },
  };
}
