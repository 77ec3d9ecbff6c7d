import { Histogram, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestServer } from '../http/test-support.js';
import { createHttpHistogram } from './http-histogram.js';
import { createMetrics } from './metrics.js';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The same histogram as prom-client builds it, fed through its own observe(). */
function reference() {
  const registry = new Registry();
  const histogram = new Histogram({
    name: 'lectern_http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    histogram,
    observe: (method: string, route: string, status: number, seconds: number) => {
      histogram.observe({ method, route, status: String(status) }, seconds);
    },
  };
}

describe('lectern_http_request_duration_seconds', () => {
  it('exposes exactly what prom-client observe() would, across scrapes', async () => {
    const expected = reference();
    const registry = new Registry();
    const actual = createHttpHistogram(registry, BUCKETS);
    const routes = ['/healthz', '/api/v1/courses/:id', 'unmatched'];
    // bounds themselves, values between them, above the last bound and zero
    const values = [0, 0.001, 0.0010001, 0.003, 0.005, 0.0123, 0.1, 0.3, 1, 2.5, 4.99, 5, 5.01, 12];
    let n = 0;
    const feed = (count: number) => {
      for (let i = 0; i < count; i++, n++) {
        const args = [
          n % 5 === 0 ? 'POST' : 'GET',
          routes[n % routes.length] as string,
          n % 7 === 0 ? 404 : 200,
          (values[n % values.length] as number) * (1 + (n % 3) / 7),
        ] as const;
        expected.observe(...args);
        actual.observe(...args);
      }
    };
    feed(500);
    expect(await registry.metrics()).toBe(await expected.registry.metrics());
    feed(333);
    expect(await registry.metrics()).toBe(await expected.registry.metrics());
    expect(await registry.getMetricsAsJSON()).toEqual(await expected.registry.getMetricsAsJSON());
    // a reset empties prom-client's series; later requests are written into it again
    registry.resetMetrics();
    expected.registry.resetMetrics();
    feed(1);
    const text = await registry.metrics();
    expect(text).toContain('lectern_http_request_duration_seconds_count');
  });

  it('an app with nothing observed exposes no series, like prom-client', async () => {
    const metrics = createMetrics();
    const text = await metrics.registry.getSingleMetricAsString('lectern_http_request_duration_seconds');
    expect(text).toBe(
      await reference().registry.getSingleMetricAsString('lectern_http_request_duration_seconds'),
    );
  });
});

describe('/metrics after known requests', () => {
  const app = createTestServer();
  afterAll(async () => (await app).close());

  it('counts each request once under its route template, method and status', async () => {
    const server = await app;
    for (let i = 0; i < 3; i++) expect((await server.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await server.inject({ url: '/no/such/route' })).statusCode).toBe(404);
    // the HEAD route Fastify adds beside a GET is counted once, under its own method
    expect((await server.inject({ method: 'HEAD', url: '/healthz' })).statusCode).toBe(200);
    const text = (await server.inject({ url: '/metrics' })).body;
    const line = (series: string) =>
      text.split('\n').find((l) => l.startsWith(`lectern_http_request_duration_seconds${series} `));
    expect(line('_count{method="GET",route="/healthz",status="200"}')).toMatch(/ 3$/);
    expect(line('_bucket{le="+Inf",method="GET",route="/healthz",status="200"}')).toMatch(/ 3$/);
    // an in-process request takes far less than 5 s: every one is in the last finite bucket
    expect(line('_bucket{le="5",method="GET",route="/healthz",status="200"}')).toMatch(/ 3$/);
    expect(line('_count{method="GET",route="unmatched",status="404"}')).toMatch(/ 1$/);
    expect(line('_count{method="HEAD",route="/healthz",status="200"}')).toMatch(/ 1$/);
    const sum = Number(line('_sum{method="GET",route="/healthz",status="200"}')?.split(' ')[1]);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(5);
  });
});
