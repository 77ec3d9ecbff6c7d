import { Type } from 'typebox';
import { defineJob } from '../../platform/jobs/job.js';
import type { AggregatesService } from './aggregates.service.js';
import type { ScoresService } from './scores.service.js';

/**
 * - `analytics.refresh-aggregates` (every 5 minutes): recompute the days new events touched.
 * - `analytics.rebuild-days`: rebuild given days (or all) from raw events, on request.
 * - `analytics.activity-scores` (daily 01:10 UTC): every user's score over the window to yesterday.
 * - `analytics.prepare-partitions` (daily 00:20 UTC): the next months' event partitions.
 * - `analytics.purge-event-keys` (daily 03:40 UTC): client event keys older than 30 days.
 */
export function createAnalyticsJobs(deps: { aggregates: AggregatesService; scores: ScoresService }) {
  const { aggregates, scores } = deps;
  const refresh = defineJob({
    name: 'analytics.refresh-aggregates',
    data: Type.Object({}),
    cron: { expression: '*/5 * * * *', data: {} },
    async handle(_data, { logger }) {
      const days = await aggregates.refresh();
      if (days.length > 0) logger.info({ days }, 'aggregates refreshed');
    },
  });
  const rebuild = defineJob({
    name: 'analytics.rebuild-days',
    data: Type.Object({
      days: Type.Optional(Type.Array(Type.String({ format: 'date' }), { maxItems: 3660 })),
    }),
    expireInSeconds: 3600,
    async handle(data, { logger }) {
      const days = await aggregates.rebuild(data.days);
      logger.info({ count: days.length }, 'aggregates rebuilt');
    },
  });
  const activity = defineJob({
    name: 'analytics.activity-scores',
    data: Type.Object({}),
    cron: { expression: '10 1 * * *', data: {} },
    expireInSeconds: 3600,
    async handle(_data, { logger }) {
      const users = await scores.recompute();
      logger.info({ users }, 'activity scores recomputed');
    },
  });
  const partitions = defineJob({
    name: 'analytics.prepare-partitions',
    data: Type.Object({}),
    cron: { expression: '20 0 * * *', data: {} },
    async handle(_data, { logger }) {
      const made = await aggregates.prepareMonths();
      if (made.length > 0) logger.info({ made }, 'event partitions created');
    },
  });
  const purge = defineJob({
    name: 'analytics.purge-event-keys',
    data: Type.Object({}),
    cron: { expression: '40 3 * * *', data: {} },
    async handle() {
      await aggregates.purgeKeys();
    },
  });
  return { refresh, rebuild, activity, partitions, purge };
}
