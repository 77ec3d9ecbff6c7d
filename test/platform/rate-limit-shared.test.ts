import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/platform/cache/cache.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule } from '../helpers/probe-module.js';

// Two instances behind a load balancer share one client's allowance through Redis.
describe.skipIf(!process.env.REDIS_URL)('rate limit across two instances on Redis', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    const prefix = `lectern-test:${randomUUID()}:`;
    const options = () => ({
      env: { RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '60000' },
      platform: { cache: createCache({ redisUrl: process.env.REDIS_URL, keyPrefix: prefix }) },
    });
    a = await buildTestApp((platform) => [createProbeModule(platform.database.db)], options());
    b = await buildTestApp((platform) => [createProbeModule(platform.database.db)], options());
  });
  afterAll(async () => {
    await a.stop();
    await b.stop();
  });

  it('counts requests to either instance against one limit', async () => {
    const codes: number[] = [];
    for (const app of [a, b, a, b, a, b]) {
      codes.push((await app.app.inject({ url: '/api/v1/probe/items' })).statusCode);
    }
    expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
  });
});
