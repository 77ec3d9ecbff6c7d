// The test helper itself: a cache the test passes is the only one opened, so no Redis
// connection of the helper's own is left open when the app stops.
import { describe, expect, it, vi } from 'vitest';
import * as cacheModule from '../../src/platform/cache/cache.js';
import { buildTestApp } from '../helpers/app.js';

vi.mock('../../src/platform/cache/cache.js', { spy: true });

describe('buildTestApp', () => {
  it('opens no cache of its own when the test passes one', async () => {
    const cache = cacheModule.createCache({});
    vi.mocked(cacheModule.createCache).mockClear();
    const t = await buildTestApp(() => [], { platform: { cache }, worker: false });
    try {
      expect(t.platform.cache).toBe(cache);
      expect(cacheModule.createCache).not.toHaveBeenCalled();
    } finally {
      await t.stop();
    }
  });

  it('opens one when the test passes none', async () => {
    vi.mocked(cacheModule.createCache).mockClear();
    const t = await buildTestApp(() => [], { worker: false });
    try {
      expect(cacheModule.createCache).toHaveBeenCalledTimes(1);
    } finally {
      await t.stop();
    }
  });
});
