import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../../platform/clock.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import { aggregatesRoutes } from './aggregates.routes.js';
import { createAggregatesService } from './aggregates.service.js';
import { analyticsBench } from './bench.js';
import { type AnalyticsApi, createAnalyticsApi } from './analytics.api.js';
import type { AnalyticsSettings } from './analytics.settings.js';
import { ingestRoutes } from './ingest.routes.js';
import { createIngestService } from './ingest.service.js';
import { recommendRoutes } from './recommend.routes.js';
import { createRecommendService } from './recommend.service.js';
import { createAnalyticsJobs } from './jobs.js';
import { analyticsMigrations } from './migrations/index.js';
import { reportsRoutes } from './reports.routes.js';
import { createReportsService } from './reports.service.js';
import { scoresRoutes } from './scores.routes.js';
import { createScoresService } from './scores.service.js';
import { createAnalyticsSubscribers } from './subscribers.js';
import type { AnalyticsTables } from './tables.js';

/** What analytics needs beyond the platform; wired in registry.ts. */
export interface AnalyticsDeps {
  settings?: Partial<AnalyticsSettings> | undefined;
  clock?: Clock | undefined;
}

const DEFAULTS = {
  ANALYTICS_INGEST_BATCHES_PER_MINUTE: 120,
  ANALYTICS_ACCEPT_PAST_DAYS: 7,
  ANALYTICS_SCORE_WINDOW_DAYS: 30,
  ANALYTICS_SCORE_MINUTES_CAP: 600,
  ANALYTICS_SCORE_INTERACTIONS_CAP: 20,
  ANALYTICS_REPORT_MAX_DAYS: 366,
} satisfies AnalyticsSettings;

export interface AnalyticsModule extends LecternModule {
  api: AnalyticsApi;
  /** The services, for the worker's jobs, the bench and tests. */
  services: {
    ingest: ReturnType<typeof createIngestService>;
    aggregates: ReturnType<typeof createAggregatesService>;
    scores: ReturnType<typeof createScoresService>;
    recommend: ReturnType<typeof createRecommendService>;
  };
}

export function createAnalyticsModule(platform: Platform, deps: AnalyticsDeps): AnalyticsModule {
  const settings = { ...DEFAULTS, ...deps.settings };
  const db = platform.database.db.withTables<AnalyticsTables>() as Kysely<AnalyticsTables>;
  const clock = deps.clock ?? systemClock;
  const ingest = createIngestService({ db, clock, acceptPastDays: settings.ANALYTICS_ACCEPT_PAST_DAYS });
  const aggregates = createAggregatesService({ db, clock });
  const scores = createScoresService({
    db,
    clock,
    model: {
      windowDays: settings.ANALYTICS_SCORE_WINDOW_DAYS,
      minutesCap: settings.ANALYTICS_SCORE_MINUTES_CAP,
      interactionsCap: settings.ANALYTICS_SCORE_INTERACTIONS_CAP,
    },
  });
  const recommend = createRecommendService({ db });
  // reports are read-only and may lag: the replica when DATABASE_READ_URL is set
  const read = platform.database.read.withTables<AnalyticsTables>() as Kysely<AnalyticsTables>;
  const reports = createReportsService({ db: read, maxDays: settings.ANALYTICS_REPORT_MAX_DAYS });
  const jobs = createAnalyticsJobs({ aggregates, scores });

  return {
    name: 'analytics',
    migrations: analyticsMigrations,
    routes: (app, kit) => {
      ingestRoutes({ ingest, batchesPerMinute: settings.ANALYTICS_INGEST_BATCHES_PER_MINUTE })(app, kit);
      scoresRoutes(scores)(app, kit);
      aggregatesRoutes({
        queueRebuild: (days) => platform.jobs.send(jobs.rebuild, days ? { days } : {}),
      })(app, kit);
      recommendRoutes(recommend)(app, kit);
      reportsRoutes(reports)(app, kit);
    },
    subscribers: createAnalyticsSubscribers({ ingest, storage: platform.storage, clock }),
    jobs: Object.values(jobs),
    bench: analyticsBench(),
    api: createAnalyticsApi({ scores }),
    services: { ingest, aggregates, scores, recommend },
  };
}
