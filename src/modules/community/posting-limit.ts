import type { Cache } from '../../platform/cache/cache.js';
import type { Clock } from '../../platform/clock.js';
import { Refused } from './community.errors.js';

export type PostingLimit = ReturnType<typeof createPostingLimit>;

/**
 * Fixed windows counted in the platform cache (Redis when configured, so every instance counts
 * together): each review, comment and report charges one; past `max` in a window is 429 with the
 * seconds until the window ends.
 */
export function createPostingLimit(deps: { cache: Cache; clock: Clock; max: number; windowSeconds: number }) {
  const { cache, clock, max, windowSeconds } = deps;
  return {
    async charge(userId: string): Promise<void> {
      const now = clock().getTime();
      const windowMs = windowSeconds * 1000;
      const window = Math.floor(now / windowMs);
      const used = await cache.incr(`community:posts:${userId}:${window}`, windowSeconds);
      if (used > max) {
        throw Refused.tooFast(Math.max(1, Math.ceil(((window + 1) * windowMs - now) / 1000)));
      }
    },
  };
}
