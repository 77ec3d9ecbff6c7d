import type { LecternModule, Platform } from '../../platform/module.js';
import { DEFAULT_SIZE_LIMITS } from './asset-inspect.js';
import { createAssetUrlSigner, loadAssetUrlSecret } from './asset-url.js';
import { assetsRoutes, registerUploads } from './assets.routes.js';
import { createAssetsService } from './assets.service.js';
import { authoringRoutes } from './authoring.routes.js';
import { createAuthoringService } from './authoring.service.js';
import { catalogBench } from './bench.js';
import { browseRoutes } from './browse.routes.js';
import { createBrowseService } from './browse.service.js';
import { type CatalogApi, createCatalogApi } from './catalog.api.js';
import { createCatalogCache } from './catalog.cache.js';
import { categoriesRoutes } from './categories.routes.js';
import { createCategoriesService } from './categories.service.js';
import type { EntitlementCheck } from './course.access.js';
import { createUrls } from './course.views.js';
import { favouritesRoutes } from './favourites.routes.js';
import { createFavouritesService } from './favourites.service.js';
import { instructorsRoutes } from './instructors.routes.js';
import { catalogInternalRoutes } from './internal.routes.js';
import { coInstructorsRoutes } from './co-instructors.routes.js';
import { createCoInstructorsService } from './co-instructors.service.js';
import { createInstructorsService, type InstructorDirectory } from './instructors.service.js';
import { catalogMigrations } from './migrations/index.js';
import { outlineRoutes } from './outline.routes.js';
import { createOutlineService } from './outline.service.js';
import { publishingRoutes } from './publishing.routes.js';
import { createPublishingService } from './publishing.service.js';
import { createReviewQueueService } from './review-queue.service.js';
import type { RouteSet } from './routes.common.js';
import { createSalesService } from './sales.service.js';
import { type DemoInstructor, seedDemoCatalog } from './seed/seed.js';
import { DEMO_INSTRUCTORS } from './seed/demo.data.js';
import { publishedCourseIdsOf } from './courses.queries.js';
import { createCatalogSubscribers } from './subscribers.js';
import { demoInstructorsFrom, instructorDirectoryFrom } from './catalog.requires.js';
import type { IdentityDirectory } from '../identity/index.js';
import type { AssetKind, CatalogTables } from './tables.js';

/** What the catalog needs beyond the platform; all optional, wired in registry.ts. */
export interface CatalogDeps {
  /**
   * Key for signed asset URLs, the same on every instance (ASSET_URL_SECRET, ≥ 32 bytes).
   * Unset: a secret generated once and kept in DATA_DIR/catalog (fine for one node).
   */
  assetUrlSecret?: string | undefined;
  /** Identity's API (declared in CATALOG_REQUIRES): names of new instructors, demo instructors. */
  identity?: IdentityDirectory | undefined;
  /** Display names of new instructors; default: from `identity`. */
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

  const instructors = createInstructorsService(
    db,
    read,
    cache,
    deps.instructors ?? (deps.identity && instructorDirectoryFrom(deps.identity)),
  );
  const categories = createCategoriesService(db, read, cache);
  const coInstructors = createCoInstructorsService({ db, cache });
  const authoring = createAuthoringService({
    db,
    cache,
    urls,
    instructors,
    coInstructors,
    storage: platform.storage,
    logger: platform.logger,
  });
  const publishing = createPublishingService({ db, cache, urls });
  const browse = createBrowseService({ db, read, cache, urls });
  const reviewQueue = createReviewQueueService({ db, urls });
  const sales = createSalesService({ db });
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
  /** identity's demo instructors (or the ones given), who take the demo catalog's first slots */
  const givenDemoInstructors = async (): Promise<DemoInstructor[] | undefined> => {
    const wanted = deps.demoInstructors ?? (deps.identity && demoInstructorsFrom(deps.identity));
    return typeof wanted === 'function' ? await wanted() : wanted;
  };
  const api = createCatalogApi({
    outline,
    sales,
    assets,
    demoCourses: async (limit) => {
      const owners = [...((await givenDemoInstructors()) ?? []), ...DEMO_INSTRUCTORS].map((i) => i.id);
      return publishedCourseIdsOf(db, [...new Set(owners)], limit);
    },
  });

  const routeSets: RouteSet[] = [
    categoriesRoutes(categories),
    browseRoutes(browse, cache),
    authoringRoutes(authoring),
    coInstructorsRoutes(coInstructors),
    publishingRoutes(publishing, reviewQueue),
    instructorsRoutes(instructors, browse),
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
    subscribers: createCatalogSubscribers({ cache, instructors, storage: platform.storage }),
    seed: async () =>
      seedDemoCatalog(
        { categories, instructors, authoring, outline, assets, publishing, browse },
        { instructors: await givenDemoInstructors() },
      ),
    bench: catalogBench,
    close: () => cache.close(),
    api,
    // at the root, beside the other modules' internal APIs (not under /api/v1)
    rootRoutes: catalogInternalRoutes(api),
  };
}
