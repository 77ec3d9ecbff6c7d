import type { Clock } from '../../platform/clock.js';
import { systemClock } from '../../platform/clock.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import type { CatalogApi } from '../catalog/index.js';
import type { IdentityDirectory } from '../identity/index.js';
import { createAccessService } from './access.service.js';
import { learningBench } from './bench.js';
import { createCourseFacts } from './catalog-facts.js';
import { createCertificatesService } from './certificates.service.js';
import { createContentUrlSigner, loadContentUrlSecret } from './content-url.js';
import { createEntitlementCopy } from './entitlements.cache.js';
import { createEntitlementsService } from './entitlements.service.js';
import { createLearningJobs } from './jobs.js';
import { createLearningApi, type LearningApi } from './learning.api.js';
import { learningRoutes } from './learning.routes.js';
import { learningInternalRoutes } from './internal.routes.js';
import { learningMigrations } from './migrations/index.js';
import { createProgressService } from './progress.service.js';
import { createLearningSubscribers } from './subscribers.js';
import type { LearningTables } from './tables.js';

/** What learning needs beyond the platform; wired in registry.ts. */
export interface LearningDeps {
  catalog: CatalogApi;
  /** Learners' display names for certificates; without it a certificate says "Learner". */
  identity?: IdentityDirectory | undefined;
  /**
   * Key for content URLs, the same on every instance; unset: generated in DATA_DIR. Its length is
   * checked where it is loaded (`loadOrCreateSecret`) and, from the environment, by the settings.
   */
  contentUrlSecret?: string | undefined;
  contentUrlSeconds?: number | undefined;
  accessCacheSeconds?: number | undefined;
  progressIntervalSeconds?: number | undefined;
  timeCapSeconds?: number | undefined;
  /** Time source; tests pass a movable clock. */
  clock?: Clock | undefined;
}

/** Whether a user may open a course's paid lessons: handed to the catalog (its lesson reads). */
export interface LearningModule extends LecternModule {
  api: LearningApi;
  canOpen(userId: string, courseId: string): Promise<boolean>;
}

export function createLearningModule(platform: Platform, deps: LearningDeps): LearningModule {
  const db = platform.database.db.withTables<LearningTables>();
  const clock = deps.clock ?? systemClock;
  const cacheSeconds = deps.accessCacheSeconds ?? 60;
  const facts = createCourseFacts(deps.catalog, platform.cache, cacheSeconds);
  let secret: Promise<Buffer> | undefined;
  const signer = createContentUrlSigner(() => {
    secret ??= loadContentUrlSecret(deps.contentUrlSecret, platform.config.dataDir);
    return secret;
  });
  const copy = createEntitlementCopy({
    cache: platform.cache,
    logger: platform.logger,
    ttlSeconds: cacheSeconds,
  });
  const entitlements = createEntitlementsService({
    db,
    cache: platform.cache,
    clock,
    facts,
    cacheSeconds,
    copy,
  });
  const access = createAccessService({
    facts,
    entitlements,
    signer,
    catalog: deps.catalog,
    clock,
    urlSeconds: deps.contentUrlSeconds ?? 300,
  });
  const certificates = createCertificatesService({
    db,
    clock,
    facts,
    identity: deps.identity,
    publicUrl: platform.config.publicUrl,
  });
  const jobs = createLearningJobs((userId, courseId) => certificates.issue(userId, courseId));
  const progress = createProgressService({
    db,
    clock,
    jobs: platform.jobs,
    certificateJob: jobs.issueCertificate,
    access,
    entitlements,
    facts,
    intervalSeconds: deps.progressIntervalSeconds ?? 5,
    timeCapSeconds: deps.timeCapSeconds ?? 60,
  });

  const api = createLearningApi({ entitlements, progress });
  return {
    name: 'learning',
    migrations: learningMigrations,
    routes: learningRoutes({ access, entitlements, progress, certificates }),
    subscribers: createLearningSubscribers({ entitlements, storage: platform.storage, clock }),
    jobs: [jobs.issueCertificate],
    bench: learningBench({ entitlements }),
    api,
    rootRoutes: learningInternalRoutes(api),
    canOpen: (userId, courseId) => api.canOpen(userId, courseId),
    close: () => copy.close(),
  };
}
