import { Histogram, type Registry } from 'prom-client';

const LABEL_NAMES = ['method', 'route', 'status'] as const;
type Label = (typeof LABEL_NAMES)[number];

/** One method, route template and status: its counts as prom-client would hold them. */
interface Series {
  labels: Record<Label, string>;
  /** Observations per bucket, not cumulative; a value above the last bound is only in `count`. */
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * prom-client's own record of one label set (`hashMap` values, created by `zero()`); not in its
 * typings, hence this shape. The equivalence test in metrics.test.ts compares the whole
 * exposition with a histogram fed through `observe()`, so a change of this shape fails there.
 */
interface PromSeries {
  labels: object;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

export interface HttpHistogram {
  /** One request's duration. Counts into a pre-resolved series: no label hashing, no allocation. */
  readonly observe: (method: string, route: string, status: number, seconds: number) => void;
}

/**
 * `lectern_http_request_duration_seconds`, counted outside prom-client and handed to it when
 * scraped. prom-client's `observe()` validates the labels and joins them into a key on every
 * call (about 2 µs a request); here a request walks three small maps keyed by values that are
 * the same strings every time (the route template, the method, the status code) and adds to
 * plain numbers. The exposition is the same: the series are written into the histogram in its
 * `collect()`, with the bucket counts, sum (added in the same order) and count prom-client's
 * own `observe()` would have reached.
 */
export function createHttpHistogram(registry: Registry, buckets: readonly number[]): HttpHistogram {
  const bounds = [...buckets];
  /** route template → method → status → series */
  const byRoute = new Map<string, Map<string, Map<number, Series>>>();
  const all: Series[] = [];
  const recorded = new Map<Series, PromSeries>();

  const histogram: Histogram<Label> = new Histogram({
    name: 'lectern_http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: LABEL_NAMES,
    buckets: bounds,
    registers: [registry],
    collect() {
      const map = (histogram as unknown as { hashMap: Record<string, PromSeries> }).hashMap;
      // after a reset() the histogram holds none of the series written before: write them anew
      const live = new Set(Object.values(map));
      for (const series of all) {
        let target = recorded.get(series);
        if (!target || !live.has(target)) {
          histogram.zero(series.labels);
          target = Object.values(map).find((entry) => entry.labels === series.labels);
          if (!target) throw new Error('prom-client did not create the series zero() names');
          recorded.set(series, target);
        }
        for (let i = 0; i < bounds.length; i++)
          target.bucketValues[bounds[i] as number] = series.buckets[i] ?? 0;
        target.sum = series.sum;
        target.count = series.count;
      }
    },
  });

  function create(method: string, route: string, status: number): Series {
    const series: Series = {
      labels: { method, route, status: String(status) },
      buckets: bounds.map(() => 0),
      sum: 0,
      count: 0,
    };
    all.push(series);
    return series;
  }

  return {
    observe(method, route, status, seconds) {
      let methods = byRoute.get(route);
      if (!methods) {
        methods = new Map();
        byRoute.set(route, methods);
      }
      let statuses = methods.get(method);
      if (!statuses) {
        statuses = new Map();
        methods.set(method, statuses);
      }
      let series = statuses.get(status);
      if (!series) {
        series = create(method, route, status);
        statuses.set(status, series);
      }
      // prom-client refuses a value that is not finite; an elapsed time always is
      series.sum += seconds;
      series.count += 1;
      for (let i = 0; i < bounds.length; i++) {
        if (seconds <= (bounds[i] as number)) {
          series.buckets[i] = (series.buckets[i] ?? 0) + 1;
          break;
        }
      }
    },
  };
}
