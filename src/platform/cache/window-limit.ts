import type { Clock } from '../clock.js';
import type { Cache } from './cache.js';

/** A per-key budget of actions in fixed windows; see `createWindowLimit`. */
export interface WindowLimit {
  /**
   * Charge one action to `key`. Undefined while the window still had room; past `max`, the
   * whole seconds until the window ends (at least 1), for a 429's `retryAfterSeconds`.
   */
  take(key: string): Promise<number | undefined>;
}

/**
 * Fixed windows counted in the platform cache (Redis when configured, so every instance counts
 * together), for budgets a module charges itself after its own checks — unlike the HTTP rate
 * limit, which counts requests per route before anything runs. Windows are aligned to the
 * clock (`floor(now / window)`), so tests move the Clock instead of sleeping.
 */
export function createWindowLimit(deps: {
  cache: Cache;
  clock: Clock;
  /** Key prefix, `<module>:<what>`. */
  prefix: string;
  max: number;
  windowSeconds: number;
}): WindowLimit {
  const { cache, clock, prefix, max, windowSeconds } = deps;
  const windowMs = windowSeconds * 1000;
  return {
    async take(key) {
      const now = clock().getTime();
      const window = Math.floor(now / windowMs);
      const used = await cache.incr(`${prefix}:${key}:${window}`, windowSeconds);
      if (used <= max) return undefined;
      return Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000));
    },
  };
}
