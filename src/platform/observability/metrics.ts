import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** One HTTP request's duration; the labelled series is looked up once per label set. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  counter(name: string, help: string, labelNames?: string[]): Counter;
}

/** A registry per app instance, so tests that build several apps do not collide. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lectern_' });
  const httpDuration = new Histogram({
    name: 'lectern_http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const counters = new Map<string, Counter>();
  // prom-client sorts and joins the label object into a key on every observe(); methods, route
  // templates and status codes are few, so resolve each combination to its series once
  const series = new Map<string, { observe(value: number): void }>();
  return {
    registry,
    httpDuration,
    observeHttp(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let s = series.get(key);
      if (!s) {
        s = httpDuration.labels({ method, route, status: String(status) });
        series.set(key, s);
      }
      s.observe(seconds);
    },
    counter(name, help, labelNames = []) {
      let c = counters.get(name);
      if (!c) {
        c = new Counter({ name, help, labelNames, registers: [registry] });
        counters.set(name, c);
      }
      return c;
    },
  };
}
