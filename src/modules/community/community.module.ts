import type { Kysely } from 'kysely';
import { createWindowLimit } from '../../platform/cache/window-limit.js';
import { type Clock, systemClock } from '../../platform/clock.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import type { CatalogApi } from '../catalog/index.js';
import type { LearningApi } from '../learning/index.js';
import { createAccess } from './access.service.js';
import { communityBench } from './bench.js';
import { type CommunityApi, createCommunityApi } from './community.api.js';
import type { CommunitySettings } from './community.settings.js';
import { commentsRoutes } from './comments.routes.js';
import { createCommentsService } from './comments.service.js';
import { createListCache } from './list-cache.js';
import { createCommunityJobs } from './jobs.js';
import { communityMigrations } from './migrations/index.js';
import { writeDemoReview } from './seed/reviews.js';
import { seedDemoCommunity } from './seed/seed.js';
import { moderationRoutes } from './moderation.routes.js';
import { reviewsRoutes } from './reviews.routes.js';
import { createReviewsService } from './reviews.service.js';
import { createModerationService, createSensitiveWords, readWordFile } from './moderation.service.js';
import { votesRoutes } from './votes.routes.js';
import { createVotesService } from './votes.service.js';
import { createCommunitySubscribers } from './subscribers.js';
import type { CommunityTables } from './tables.js';

/** What community needs beyond the platform; wired in registry.ts. */
export interface CommunityDeps {
  catalog: CatalogApi;
  learning: LearningApi;
  settings?: Partial<CommunitySettings> | undefined;
  /** Extra sensitive words (tests); the file setting adds more. */
  extraWords?: readonly string[] | undefined;
  clock?: Clock | undefined;
}

const DEFAULTS = {
  COMMUNITY_RATING_PRIOR_MEAN: 3.5,
  COMMUNITY_RATING_PRIOR_WEIGHT: 10,
  COMMUNITY_POSTS_PER_WINDOW: 10,
  COMMUNITY_POST_WINDOW_SECONDS: 60,
  COMMUNITY_LIST_CACHE_SECONDS: 30,
} satisfies Partial<CommunitySettings>;

export interface CommunityModule extends LecternModule {
  api: CommunityApi;
}

export function createCommunityModule(platform: Platform, deps: CommunityDeps): CommunityModule {
  const settings = { ...DEFAULTS, ...deps.settings };
  const db = platform.database.db.withTables<CommunityTables>() as Kysely<CommunityTables>;
  const clock = deps.clock ?? systemClock;
  const fileWords = settings.COMMUNITY_SENSITIVE_WORDS_FILE
    ? readWordFile(settings.COMMUNITY_SENSITIVE_WORDS_FILE)
    : [];
  const words = createSensitiveWords([...fileWords, ...(deps.extraWords ?? [])]);
  const posting = createWindowLimit({
    cache: platform.cache,
    clock,
    prefix: 'community:posts',
    max: settings.COMMUNITY_POSTS_PER_WINDOW,
    windowSeconds: settings.COMMUNITY_POST_WINDOW_SECONDS,
  });
  const access = createAccess({
    catalog: deps.catalog,
    learning: deps.learning,
    cache: platform.cache,
    cacheSeconds: 60,
  });
  const lists = createListCache({
    cache: platform.cache,
    ttlSeconds: settings.COMMUNITY_LIST_CACHE_SECONDS,
    logger: platform.logger,
  });
  const reviewPagesChanged = (courseId: string) => lists.drop(courseId);
  const prior = {
    mean: settings.COMMUNITY_RATING_PRIOR_MEAN,
    weight: settings.COMMUNITY_RATING_PRIOR_WEIGHT,
  };
  const reviews = createReviewsService({
    db,
    clock,
    access,
    words,
    posting,
    prior,
    changed: reviewPagesChanged,
  });
  const changed = async (type: 'review' | 'comment', key: string) => {
    if (type === 'review') await reviewPagesChanged(key);
  };
  const votes = createVotesService({ db, clock, changed });
  const comments = createCommentsService({ db, clock, access, words, posting });
  const moderation = createModerationService({
    db,
    clock,
    posting,
    changed,
    notice: (courseId, lessonId) => access.notice(courseId, lessonId),
  });
  // demo reviews follow the platform's demo setting: off (anywhere real), no grant queues one and
  // the job is not registered, so one queued before it was turned off never runs
  const demoData = platform.config.seedDemo;
  const jobs = createCommunityJobs({
    verify: (userId, courseId) => reviews.verify(userId, courseId),
    demoReview: async (userId, courseId) => {
      await writeDemoReview({ reviews, votes, catalog: deps.catalog }, userId, courseId);
    },
    recount: async () => ({
      courses: await reviews.recountAll(),
      reviews: await votes.recount('review'),
      comments: await votes.recount('comment'),
    }),
  });

  return {
    name: 'community',
    migrations: communityMigrations,
    routes: (app, kit) => {
      reviewsRoutes({ reviews, lists })(app, kit);
      commentsRoutes(comments)(app, kit);
      votesRoutes(votes)(app, kit);
      moderationRoutes(moderation)(app, kit);
    },
    subscribers: createCommunitySubscribers({
      reviews,
      jobs: platform.jobs,
      verifyPurchase: jobs.verifyPurchase,
      demoReview: demoData ? jobs.demoReview : undefined,
      storage: platform.storage,
      clock,
      reviewPagesChanged,
    }),
    // a platform without demo data has no demo-review queue for its workers to poll
    jobs: [jobs.verifyPurchase, ...(demoData ? [jobs.demoReview] : []), jobs.recount],
    seed: () => seedDemoCommunity({ comments, votes, catalog: deps.catalog }),
    bench: communityBench({ db, prior }),
    api: createCommunityApi({ reviews }),
    close: () => lists.close(),
  };
}
