import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule, type ProbeModule } from '../helpers/probe-module.js';

let t: TestApp;
let probe: ProbeModule;

beforeAll(async () => {
  t = await buildTestApp((platform) => {
    probe = createProbeModule(platform.database.db);
    return [probe];
  });
});
afterAll(async () => {
  await t.stop();
});

describe('graceful shutdown', () => {
  it('finishes an in-flight request, then refuses new ones', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;

    const inFlight = fetch(`${base}/api/v1/probe/slow`);
    await probe.parked;
    const closing = t.close();
    // the instance now reports itself unready, so a load balancer drains it
    await new Promise((resolve) => setTimeout(resolve, 50));
    probe.release();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await closing;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
