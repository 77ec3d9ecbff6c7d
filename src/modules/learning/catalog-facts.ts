import { LRUCache } from 'lru-cache';
import type { Cache } from '../../platform/cache/cache.js';
import type { CatalogApi, CatalogLesson, CourseForSale } from '../catalog/index.js';

/**
 * The catalog's answers learning needs on every content check and progress report (a lesson,
 * its course, the course's lessons), asked through the catalog's API before any transaction
 * and kept briefly in the platform cache (and for up to 5 s in the process): a lesson moved or a course unpublished shows here
 * within `seconds`. Decisions that must not be late (free enrolment, admin grants) ask fresh.
 */
export function createCourseFacts(catalog: CatalogApi, cache: Cache, seconds: number) {
  // a few seconds in this process first: these facts may be `seconds` old anyway, and the hot
  // content check then makes no cache round trip for them
  const local = new LRUCache<string, { v: unknown }>({ max: 10_000, ttl: Math.min(5, seconds) * 1000 });
  async function cached<T>(key: string, load: () => Promise<T>, fresh: boolean): Promise<T> {
    if (!fresh) {
      const near = local.get(key) as { v: T } | undefined;
      if (near) return near.v;
      const hit = await cache.get<{ v: T }>(key);
      if (hit) {
        local.set(key, hit);
        return hit.v;
      }
    }
    const value = await load();
    await cache.set(key, { v: value ?? null }, seconds);
    local.set(key, { v: value ?? null });
    return value;
  }
  const orUndefined = <T>(v: T | null | undefined): T | undefined => v ?? undefined;
  // the value kept under `key` (null when the catalog said there is none), as `cached` stored it
  const kept = (key: string) => local.get(key)?.v ?? undefined;
  return {
    /**
     * The lesson as this process keeps it, without waiting for anything: the answer `lesson` would
     * give from the same copy, or undefined when none is kept (or the catalog said there is none).
     */
    keptLesson: (lessonId: string) => kept(`learning:lesson:${lessonId}`) as CatalogLesson | undefined,
    /** The course as this process keeps it, as `keptLesson`. */
    keptCourse: (courseId: string) => kept(`learning:course:${courseId}`) as CourseForSale | undefined,
    async lesson(lessonId: string): Promise<CatalogLesson | undefined> {
      return orUndefined(
        await cached(`learning:lesson:${lessonId}`, () => catalog.getLesson(lessonId), false),
      );
    },
    async course(courseId: string, options: { fresh?: boolean } = {}): Promise<CourseForSale | undefined> {
      return orUndefined(
        await cached(
          `learning:course:${courseId}`,
          () => catalog.getCourseForSale(courseId),
          options.fresh ?? false,
        ),
      );
    },
    lessonsOf(courseId: string): Promise<CatalogLesson[]> {
      return cached(`learning:lessons:${courseId}`, () => catalog.lessonsOfCourse(courseId), false);
    },
  };
}

export type CourseFacts = ReturnType<typeof createCourseFacts>;
