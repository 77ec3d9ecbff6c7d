import type { FastifyRequest } from 'fastify';
import type { Cache } from '../../platform/cache/cache.js';
import { AppError } from '../../platform/errors.js';
import { requirePrincipal } from '../../platform/http/principal.js';
import type { CatalogApi, CatalogLesson, CourseForSale } from '../catalog/index.js';
import type { LearningApi } from '../learning/index.js';
import { CommunityErrors, NotFound, Refused } from './community.errors.js';
import { can } from './permissions.js';
import { isUuid } from '../../platform/ids.js';

export interface Viewer {
  userId: string;
  roles: string[];
}

function viewerFrom(subject: string, roles: string[]): Viewer {
  // community keeps user ids in uuid columns; any other subject would surface as a 500
  if (!isUuid(subject)) {
    throw AppError.forbidden(
      CommunityErrors.unsupportedSubject,
      'This token’s subject is not a user of this platform.',
    );
  }
  return { userId: subject, roles };
}

/** The signed-in caller of a route guarded by `auth.require()`. */
export const requireViewer = (request: FastifyRequest): Viewer => {
  const p = requirePrincipal(request);
  return viewerFrom(p.subject, p.roles);
};

/** The caller of a route guarded by `auth.optional()`, or undefined when anonymous. */
export const optionalViewer = (request: FastifyRequest): Viewer | undefined =>
  request.principal ? viewerFrom(request.principal.subject, request.principal.roles) : undefined;

export type LessonVia = 'preview' | 'entitled' | 'instructor' | 'admin';

/** Published courses are open to their buyers; archived ones too (people bought them). */
const isLive = (course: CourseForSale) => course.status === 'published' || course.status === 'archived';

export const isInstructorOf = (course: CourseForSale, userId: string) =>
  course.ownerId === userId || course.instructorIds.includes(userId);

/** The team and titles notify's notices of a course's reviews and comments use. */
export interface NoticeFacts {
  instructorIds?: string[];
  courseTitle?: string;
  lessonTitle?: string;
}

/**
 * What a notice of an item on this course (and lesson) names: the owner and instructors, owner
 * first, each once (the catalog lists the owner among them too), and the titles.
 */
export function noticeOf(course: CourseForSale | undefined, lesson?: { title: string }): NoticeFacts {
  return {
    ...(course
      ? { instructorIds: [...new Set([course.ownerId, ...course.instructorIds])], courseTitle: course.title }
      : {}),
    ...(lesson ? { lessonTitle: lesson.title } : {}),
  };
}

/**
 * What community asks the catalog and learning, always before opening a transaction of its own.
 * Course and lesson facts are cached for `cacheSeconds`; the entitlement answer is not (a
 * refund must close the door at once).
 */
export function createAccess(deps: {
  catalog: CatalogApi;
  learning: LearningApi;
  cache: Cache;
  cacheSeconds: number;
}) {
  const { catalog, learning, cache, cacheSeconds } = deps;

  async function cached<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = await cache.get<T>(key).catch(() => undefined);
    if (hit !== undefined) return hit;
    const value = await load();
    if (value !== undefined) await cache.set(key, value, cacheSeconds).catch(() => undefined);
    return value;
  }

  const course = (courseId: string) =>
    cached(`community:course:${courseId}`, () => catalog.getCourseForSale(courseId));
  const lesson = (lessonId: string) =>
    cached(`community:lesson:${lessonId}`, () => catalog.getLesson(lessonId));
  const owns = async (userId: string, courseId: string) =>
    (await learning.ownedCourseIds(userId, [courseId])).includes(courseId);

  return {
    /** The course if it is live (published or archived), else 404. */
    async liveCourse(courseId: string): Promise<CourseForSale> {
      const c = await course(courseId);
      if (!c || !isLive(c)) throw NotFound.course();
      return c;
    },

    owns,

    /**
     * Whom a notice of an item on the course tells and what it names: the team and titles of a
     * course in any status (and of the lesson, when given); a field the catalog cannot answer is left out.
     */
    async notice(courseId: string, lessonId?: string): Promise<NoticeFacts> {
      return noticeOf(await course(courseId), lessonId === undefined ? undefined : await lesson(lessonId));
    },

    /**
     * Who may read and write a lesson's discussion: whoever may open the lesson (free previews for
     * everyone, instructors, admins, entitled learners). Others get 403, unknown lessons 404.
     */
    async lesson(
      viewer: Viewer | undefined,
      lessonId: string,
    ): Promise<{ lesson: CatalogLesson; course: CourseForSale; via: LessonVia }> {
      const l = await lesson(lessonId);
      if (!l) throw NotFound.lesson();
      const c = await course(l.courseId);
      if (!c || !isLive(c)) throw NotFound.lesson();
      if (viewer && isInstructorOf(c, viewer.userId)) return { lesson: l, course: c, via: 'instructor' };
      if (viewer && can(viewer.roles, 'community:read-any')) return { lesson: l, course: c, via: 'admin' };
      if (l.freePreview) return { lesson: l, course: c, via: 'preview' };
      if (viewer && (await owns(viewer.userId, c.id))) return { lesson: l, course: c, via: 'entitled' };
      throw Refused.lessonPurchase();
    },
  };
}

export type Access = ReturnType<typeof createAccess>;
