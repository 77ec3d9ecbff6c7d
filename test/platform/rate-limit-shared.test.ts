import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/platform/cache/cache.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule } from '../helpers/probe-module.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Two instances behind a load balancer share one client's allowance through Redis. Each counts
// locally and adds its counts to Redis every 100 ms (rate-limit-store.ts), so the test lets a
// few sync intervals pass before it expects one instance to know what the other counted.
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

  const get = async (app: TestApp) => (await app.app.inject({ url: '/api/v1/probe/items' })).statusCode;

  it('counts requests to either instance against one limit', async () => {
    // two on each: four in all, the limit, whatever either instance has synced so far
    expect([await get(a), await get(b), await get(a), await get(b)]).toEqual([200, 200, 200, 200]);
    await sleep(600);
    // each instance alone has seen only two, so only the shared count refuses these
    expect([await get(a), await get(b)]).toEqual([429, 429]);
  });

  it('leaves the probes unlimited', async () => {
    expect((await a.app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const headers = (await a.app.inject({ url: '/healthz' })).headers;
    expect(headers['x-ratelimit-limit']).toBeUndefined();
  });
});
