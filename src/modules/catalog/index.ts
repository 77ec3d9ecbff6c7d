import { AppError } from '../../platform/errors.js';
import type { LecternModule, ModuleSubscriber, Platform } from '../../platform/module.js';
import { DEFAULT_SIZE_LIMITS } from './asset-inspect.js';
import { createAssetUrlSigner, loadAssetUrlSecret } from './asset-url.js';
import { assetsRoutes, registerUploads } from './assets.routes.js';
import type { RouteSet } from './catalog.http.js';
import { createAssetsService, DEFAULT_URL_TTL_SECONDS, type SignedUrl } from './assets.service.js';
import { catalogBench } from './bench.js';
import { createCatalogCache } from './catalog.cache.js';
import { CatalogEvents, ConsumedEvents } from './catalog.events.js';
import { categoriesRoutes } from './categories.routes.js';
import { createCategoriesService } from './categories.service.js';
import type { EntitlementCheck } from './course.access.js';
import { createUrls } from './course.views.js';
import { coursesRoutes } from './courses.routes.js';
import { type CourseForSale, createCoursesService } from './courses.service.js';
import { favouritesRoutes } from './favourites.routes.js';
import { createFavouritesService } from './favourites.service.js';
import { createInstructorsService, type InstructorDirectory } from './instructors.service.js';
import { catalogMigrations } from './migrations/index.js';
import { outlineRoutes } from './outline.routes.js';
import { createOutlineService } from './outline.service.js';
import { type DemoInstructor, seedDemoCatalog } from './seed.js';
import type { AssetKind, CatalogTables, LessonKind } from './tables.js';

export type {
  CategoryCreated,
  CourseArchived,
  CoursePublished,
  CourseRejected,
  CourseSubmitted,
  CourseUpdated,
  LessonAdded,
} from './catalog.events.js';
export {
  CatalogEvents,
  CategoryCreatedEvent,
  CourseArchivedEvent,
  CoursePublishedEvent,
  CourseRejectedEvent,
  CourseSubmittedEvent,
  CourseUpdatedEvent,
  LessonAddedEvent,
} from './catalog.events.js';
export type { EntitlementCheck } from './course.access.js';
export type { CourseForSale } from './courses.service.js';
export type { InstructorDirectory } from './instructors.service.js';
export { DEMO_INSTRUCTORS, type DemoInstructor, seedBulkCourses } from './seed.js';
export type { AssetKind, LessonKind } from './tables.js';

/** What the catalog needs beyond the platform; all optional, wired in registry.ts. */
export interface CatalogDeps {
  /**
   * Key for signed asset URLs, the same on every instance (ASSET_URL_SECRET, ≥ 32 bytes).
   * Unset: a secret generated once and kept in DATA_DIR/catalog (fine for one node).
   */
  assetUrlSecret?: string | undefined;
  /** Display names of new instructors (identity's user lookup). */
  instructors?: InstructorDirectory | undefined;
  /** Who besides editors may open paid lessons (the learning module's entitlements). */
  entitlements?: EntitlementCheck | undefined;
  /**
   * Accounts that should own demo courses (identity's demo instructors), asked for at seed time.
   * They take the first demo instructor slots; the rest stay catalog-only profiles.
   */
  demoInstructors?: DemoInstructor[] | (() => Promise<DemoInstructor[]>) | undefined;
  /** Upload size limits per kind, in bytes. */
  assetSizeLimits?: Partial<Record<AssetKind, number>> | undefined;
  cacheTtl?: { detailSeconds?: number; listSeconds?: number } | undefined;
}

export interface CatalogLesson {
  id: string;
  courseId: string;
  title: string;
  kind: LessonKind;
  freePreview: boolean;
  assetId: string | null;
  durationSeconds: number | null;
}

/** The catalog's synchronous answers for other modules (commerce, learning). */
export interface CatalogApi {
  /** The course as it may be sold now; undefined when there is no such course. */
  getCourseForSale(courseId: string): Promise<CourseForSale | undefined>;
  /** The current price; orders copy it, so later changes never touch them. */
  getCoursePrice(courseId: string): Promise<{ amount: number; currency: string } | undefined>;
  getLesson(lessonId: string): Promise<CatalogLesson | undefined>;
  /** A URL that opens the file until it expires (at most 24 h); the caller decides who gets it. */
  signAssetUrl(assetId: string, ttlSeconds?: number): Promise<SignedUrl>;
}

export function createCatalogModule(
  platform: Platform,
  deps: CatalogDeps = {},
): LecternModule & { api: CatalogApi } {
  if (deps.assetUrlSecret !== undefined && Buffer.byteLength(deps.assetUrlSecret) < 32) {
    throw new Error('the asset URL secret (ASSET_URL_SECRET) must be at least 32 bytes');
  }
  const db = platform.database.db.withTables<CatalogTables>();
  const read = platform.database.read.withTables<CatalogTables>();
  const cache = createCatalogCache(platform.cache, platform.logger, {
    detailSeconds: deps.cacheTtl?.detailSeconds ?? 300,
    listSeconds: deps.cacheTtl?.listSeconds ?? 60,
  });
  const urls = createUrls(platform.config.publicUrl);
  let secret: Promise<Buffer> | undefined;
  const signer = createAssetUrlSigner(() => {
    secret ??= loadAssetUrlSecret(deps.assetUrlSecret, platform.config.dataDir);
    return secret;
  });

  const instructors = createInstructorsService(db, read, cache, deps.instructors);
  const categories = createCategoriesService(db, read, cache);
  const courses = createCoursesService({
    db,
    read,
    cache,
    urls,
    instructors,
    storage: platform.storage,
    logger: platform.logger,
  });
  const outline = createOutlineService({ db, read, cache, urls, entitlements: deps.entitlements });
  const assets = createAssetsService({
    db,
    read,
    storage: platform.storage,
    signer,
    urls,
    outline,
    limits: { ...DEFAULT_SIZE_LIMITS, ...deps.assetSizeLimits },
    entitlements: deps.entitlements,
    logger: platform.logger,
  });
  const favourites = createFavouritesService({ db, cache, urls });

  const subscribers: ModuleSubscriber[] = [
    {
      // A second delete after the relay delivers the event closes the window in which a reader
      // that loaded the old row before the commit wrote it back to the cache after our delete.
      consumer: 'catalog.cache-invalidation',
      types: [
        CatalogEvents.coursePublished,
        CatalogEvents.courseUpdated,
        CatalogEvents.courseArchived,
        CatalogEvents.lessonAdded,
      ],
      async handle(event) {
        await cache.invalidateCourse(event.aggregateId);
      },
    },
    {
      consumer: 'catalog.instructor-profiles',
      types: [ConsumedEvents.instructorApproved],
      async handle(event, trx) {
        const data = (event.data ?? {}) as { userId?: unknown; displayName?: unknown };
        const userId = typeof data.userId === 'string' ? data.userId : undefined;
        if (!userId || !/^[0-9a-f-]{36}$/i.test(userId)) {
          // retrying a malformed event would fail forever; log it and move on
          platform.logger.warn(
            { eventId: event.id, type: event.type },
            'catalog ignored an event without a user id',
          );
          return;
        }
        // the name comes with the event: asking identity here would hold this transaction open
        // across a call to another module (and, on PGlite's single connection, wait forever)
        const name = typeof data.displayName === 'string' ? data.displayName : undefined;
        const courseIds = await instructors.applyApproved(trx.withTables<CatalogTables>(), userId, name);
        await cache.invalidateCourse(...courseIds);
      },
    },
    {
      consumer: 'catalog.instructor-profile-updates',
      types: [ConsumedEvents.profileUpdated],
      async handle(event, trx) {
        const data = (event.data ?? {}) as Record<string, unknown>;
        const text = (v: unknown) => (typeof v === 'string' ? v : null);
        const userId = text(data.userId);
        const displayName = text(data.displayName);
        if (!userId || !isUuid(userId) || displayName === null) {
          platform.logger.warn(
            { eventId: event.id, type: event.type },
            'catalog ignored a malformed profile event',
          );
          return;
        }
        const courseIds = await instructors.applyProfile(trx.withTables<CatalogTables>(), {
          userId,
          displayName,
          headline: text(data.headline),
          bio: text(data.bio),
        });
        // the instructor page is cached too: bump listings even when no course changed
        await cache.invalidateCourse(...courseIds);
        await cache.invalidateListings();
      },
    },
  ];

  // other modules may pass any string; one that is not a uuid names nothing (rather than a SQL error)
  const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  const api: CatalogApi = {
    getCourseForSale: async (courseId) => (isUuid(courseId) ? courses.forSale(courseId) : undefined),
    async getCoursePrice(courseId) {
      return isUuid(courseId) ? (await courses.forSale(courseId))?.price : undefined;
    },
    async getLesson(lessonId) {
      if (!isUuid(lessonId)) return undefined;
      const row = await db
        .selectFrom('catalog.lessons')
        .selectAll()
        .where('id', '=', lessonId)
        .executeTakeFirst();
      return row
        ? {
            id: row.id,
            courseId: row.course_id,
            title: row.title,
            kind: row.kind,
            freePreview: row.free_preview,
            assetId: row.asset_id,
            durationSeconds: row.duration_seconds,
          }
        : undefined;
    },
    signAssetUrl: async (assetId, ttlSeconds = DEFAULT_URL_TTL_SECONDS) => {
      if (!isUuid(assetId)) throw AppError.notFound('catalog.asset-not-found', 'No such file.');
      return assets.signAssetUrl(assetId, ttlSeconds);
    },
  };

  const routeSets: RouteSet[] = [
    categoriesRoutes(categories),
    coursesRoutes(courses, outline, instructors),
    outlineRoutes(outline, assets),
    assetsRoutes(assets),
    favouritesRoutes(favourites),
  ];

  return {
    name: 'catalog',
    migrations: catalogMigrations,
    routes: async (app, kit) => {
      await registerUploads(app);
      for (const routes of routeSets) routes(app, kit);
    },
    subscribers,
    seed: async () => {
      const given =
        typeof deps.demoInstructors === 'function' ? await deps.demoInstructors() : deps.demoInstructors;
      return seedDemoCatalog(db, platform.storage, { instructors: given });
    },
    bench: catalogBench,
    api,
  };
}
