import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { createHttpHistogram } from './http-histogram.js';

export interface Metrics {
  registry: Registry;
  /** One HTTP request's duration, as `lectern_http_request_duration_seconds`. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  counter(name: string, help: string, labelNames?: string[]): Counter;
}

/** A registry per app instance, so tests that build several apps do not collide. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lectern_' });
  const http = createHttpHistogram(registry, [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  const counters = new Map<string, Counter>();
  return {
    registry,
    observeHttp: http.observe,
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
