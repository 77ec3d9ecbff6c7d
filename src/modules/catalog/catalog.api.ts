import type { InternalClient } from '../../platform/http/internal-client.js';
import { DEFAULT_URL_TTL_SECONDS, type AssetsService, type SignedUrl } from './assets.service.js';
import { MAX_URL_TTL_SECONDS } from './asset-url.js';
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
  /**
   * Ids of the demo catalog's published courses (owned by its demo instructors), newest first, at
   * most `limit` (≤ 100): other modules' demo data. Empty on a platform the demo did not make, so
   * a demo seed never writes on real instructors' courses.
   */
  demoCourseIds(limit: number): Promise<string[]>;
  /** A URL that opens the file until it expires (at most 24 h); the caller decides who gets it. */
  signAssetUrl(assetId: string, ttlSeconds?: number): Promise<SignedUrl>;
}

// other modules may pass any string; one that is not a uuid names nothing (rather than a SQL error)
const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** `demoCourseIds`' limit as both implementations take it: 1..100, and one for a NaN. */
function demoLimit(limit: number): number {
  const floored = Math.floor(limit);
  return Number.isNaN(floored) ? 1 : Math.max(1, Math.min(100, floored));
}

/** The in-process implementation, used when the caller runs in the same process. */
export function createCatalogApi(deps: {
  outline: OutlineService;
  sales: SalesService;
  assets: AssetsService;
  /** Published courses of the demo instructors, newest first. */
  demoCourses: (limit: number) => Promise<string[]>;
}): CatalogApi {
  const { outline, sales, assets, demoCourses } = deps;
  return {
    getCourseForSale: async (courseId) => (isUuid(courseId) ? sales.forSale(courseId) : undefined),
    async getCoursePrice(courseId) {
      return isUuid(courseId) ? (await sales.forSale(courseId))?.price : undefined;
    },
    async getLesson(lessonId) {
      if (!isUuid(lessonId)) return undefined;
      return outline.lessonSummary(lessonId);
    },
    demoCourseIds: async (limit) => demoCourses(demoLimit(limit)),
    lessonsOfCourse: async (courseId) => (isUuid(courseId) ? outline.lessonSummariesOfCourse(courseId) : []),
    signAssetUrl: async (assetId, ttlSeconds = DEFAULT_URL_TTL_SECONDS) => {
      if (!isUuid(assetId)) throw NotFound.asset();
      return assets.signAssetUrl(assetId, ttlSeconds);
    },
  };
}

/** The catalog's internal routes (internal.routes.ts), for services without the catalog in-process. */
export const CATALOG_INTERNAL_PREFIX = '/internal/v1/catalog';

/**
 * The same interface over HTTP, on the platform's internal client. Every call is a read (GET,
 * retried by the client). A malformed id names nothing here without a request, as in-process
 * (the routes answer 400 to one); a limit is clamped as in-process.
 */
export function catalogHttpClient(http: InternalClient): CatalogApi {
  const at = (kind: 'courses' | 'lessons' | 'assets', id: string) =>
    `${CATALOG_INTERNAL_PREFIX}/${kind}/${encodeURIComponent(id)}`;
  return {
    getCourseForSale: async (courseId) =>
      isUuid(courseId) ? http.find<CourseForSale>(`${at('courses', courseId)}/for-sale`) : undefined,
    getCoursePrice: async (courseId) =>
      isUuid(courseId)
        ? http.find<{ amount: number; currency: string }>(`${at('courses', courseId)}/price`)
        : undefined,
    getLesson: async (lessonId) =>
      isUuid(lessonId) ? http.find<CatalogLesson>(at('lessons', lessonId)) : undefined,
    async lessonsOfCourse(courseId) {
      if (!isUuid(courseId)) return [];
      return (await http.get<{ lessons: CatalogLesson[] }>(`${at('courses', courseId)}/lessons`)).lessons;
    },
    async demoCourseIds(limit) {
      const answer = await http.get<{ courseIds: string[] }>(`${CATALOG_INTERNAL_PREFIX}/demo-course-ids`, {
        limit: String(demoLimit(limit)),
      });
      return answer.courseIds;
    },
    async signAssetUrl(assetId, ttlSeconds = DEFAULT_URL_TTL_SECONDS) {
      if (!isUuid(assetId)) throw NotFound.asset();
      // clamped as the signer clamps (1 s to 24 h), so the route's bounds never refuse a call
      const floored = Math.floor(ttlSeconds);
      const ttl = Number.isNaN(floored)
        ? DEFAULT_URL_TTL_SECONDS
        : Math.max(1, Math.min(MAX_URL_TTL_SECONDS, floored));
      return http.get<SignedUrl>(`${at('assets', assetId)}/signed-url`, { ttlSeconds: String(ttl) });
    },
  };
}
