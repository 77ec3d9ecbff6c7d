import { DEFAULT_URL_TTL_SECONDS, type AssetsService, type SignedUrl } from './assets.service.js';
import type { BrowseService } from './browse.service.js';
import { NotFound } from './catalog.errors.js';
import type { OutlineService } from './outline.service.js';
import type { CourseForSale, SalesService } from './sales.service.js';
import type { LessonKind } from './tables.js';

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
  /** Every lesson of the course in outline order; empty for an unknown course. */
  lessonsOfCourse(courseId: string): Promise<CatalogLesson[]>;
  /** Ids of published courses, newest first, at most `limit` (≤ 100): other modules' demo data. */
  publishedCourseIds(limit: number): Promise<string[]>;
  /** A URL that opens the file until it expires (at most 24 h); the caller decides who gets it. */
  signAssetUrl(assetId: string, ttlSeconds?: number): Promise<SignedUrl>;
}

// other modules may pass any string; one that is not a uuid names nothing (rather than a SQL error)
const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** The in-process implementation, used when the caller runs in the same process. */
export function createCatalogApi(deps: {
  outline: OutlineService;
  sales: SalesService;
  assets: AssetsService;
  browse: BrowseService;
}): CatalogApi {
  const { outline, sales, assets, browse } = deps;
  return {
    getCourseForSale: async (courseId) => (isUuid(courseId) ? sales.forSale(courseId) : undefined),
    async getCoursePrice(courseId) {
      return isUuid(courseId) ? (await sales.forSale(courseId))?.price : undefined;
    },
    async getLesson(lessonId) {
      if (!isUuid(lessonId)) return undefined;
      return outline.lessonSummary(lessonId);
    },
    publishedCourseIds: async (limit) =>
      (await browse.list({ limit: Math.max(1, Math.min(100, Math.floor(limit))) })).data.map((c) => c.id),
    lessonsOfCourse: async (courseId) => (isUuid(courseId) ? outline.lessonSummariesOfCourse(courseId) : []),
    signAssetUrl: async (assetId, ttlSeconds = DEFAULT_URL_TTL_SECONDS) => {
      if (!isUuid(assetId)) throw NotFound.asset();
      return assets.signAssetUrl(assetId, ttlSeconds);
    },
  };
}
