import { type Clock, epochSeconds } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { CatalogApi, CatalogLesson, CourseForSale } from '../catalog/index.js';
import type { CourseFacts } from './catalog-facts.js';
import { ANONYMOUS, type ContentUrl, type ContentUrlSigner, createContentUrlIssuer } from './content-url.js';
import type { EntitlementsService } from './entitlements.service.js';
import { LearningErrors, NotFound, purchaseRequired } from './learning.errors.js';
import { can } from './permissions.js';

export interface Learner {
  userId: string;
  roles: string[];
}

export type AccessVia = 'preview' | 'entitled' | 'instructor' | 'admin';

export interface Access {
  lesson: CatalogLesson;
  course: CourseForSale;
  via: AccessVia;
}

/** What the access route answers: where to open the lesson, and why the caller may. */
export interface ContentAccessView extends ContentUrl {
  lessonId: string;
  courseId: string;
  access: AccessVia;
}

/** Published courses are open to their buyers; archived ones too (people bought them). */
const isLive = (course: CourseForSale) => course.status === 'published' || course.status === 'archived';

/**
 * The one place that decides who may open a lesson: free previews for everyone, the course's
 * instructors, admins, and learners with an entitlement. Everyone else gets 403
 * `learning.purchase-required` with the course and its price.
 */
export function createAccessService(deps: {
  facts: CourseFacts;
  entitlements: EntitlementsService;
  signer: ContentUrlSigner;
  catalog: CatalogApi;
  clock: Clock;
  urlSeconds: number;
}) {
  const { facts, entitlements, signer, catalog, clock, urlSeconds } = deps;
  const urls = createContentUrlIssuer(signer, urlSeconds);

  /** The lesson and its course, or 404 when either is unknown or not public. */
  async function lessonInCourse(lessonId: string): Promise<{ lesson: CatalogLesson; course: CourseForSale }> {
    const lesson = await facts.lesson(lessonId);
    if (!lesson) throw NotFound.lesson();
    const course = await facts.course(lesson.courseId);
    if (!course || !isLive(course)) throw NotFound.lesson();
    return { lesson, course };
  }

  /** The ways in that need no grant: a free preview, the course's instructors, admins. */
  function withoutGrant(
    learner: Learner | undefined,
    lesson: CatalogLesson,
    course: CourseForSale,
  ): AccessVia | undefined {
    if (lesson.freePreview) return 'preview';
    if (!learner) return undefined;
    if (course.ownerId === learner.userId || course.instructorIds.includes(learner.userId)) {
      return 'instructor';
    }
    return can(learner.roles, 'content:open-any') ? 'admin' : undefined;
  }

  /**
   * An open lesson decided from what this process keeps (the catalog facts and the entitlement
   * answer that `check` would read first anyway), without waiting for anything; undefined when
   * one of them is not kept, or the answer is a refusal: `check` then decides as always. The warm
   * check is most of the traffic, and each await on its way costs a turn of the microtask queue.
   */
  function keptAccess(learner: Learner | undefined, lessonId: string): Access | undefined {
    const lesson = facts.keptLesson(lessonId);
    const course = lesson && facts.keptCourse(lesson.courseId);
    if (!lesson || !course || !isLive(course)) return undefined;
    const via =
      withoutGrant(learner, lesson, course) ??
      (learner && entitlements.keptAnswer(learner.userId, course.id) ? 'entitled' : undefined);
    return via && { lesson, course, via };
  }

  function withUrl(
    access: Access,
    learner: Learner | undefined,
    lessonId: string,
  ): ContentAccessView | Promise<ContentAccessView> {
    const view = (url: ContentUrl): ContentAccessView => ({
      lessonId,
      courseId: access.course.id,
      access: access.via,
      contentUrl: url.contentUrl,
      expiresAt: url.expiresAt,
    });
    const url = urls.issue(lessonId, learner?.userId ?? ANONYMOUS, epochSeconds(clock()));
    return url instanceof Promise ? url.then(view) : view(url);
  }

  async function check(learner: Learner | undefined, lessonId: string): Promise<Access> {
    const kept = keptAccess(learner, lessonId);
    if (kept) return kept;
    const { lesson, course } = await lessonInCourse(lessonId);
    const via =
      withoutGrant(learner, lesson, course) ??
      (learner && (await entitlements.isEntitled(learner.userId, course.id)) ? 'entitled' : undefined);
    if (via) return { lesson, course, via };
    throw purchaseRequired({ id: course.id, price: course.price, onSale: course.onSale });
  }

  return {
    lessonInCourse,
    check,

    /**
     * A content URL for this caller and lesson, valid for `urlSeconds` from its issue. A plain
     * value when both the access and a recent URL are kept (the warm check: nothing to wait for).
     */
    contentUrl(
      learner: Learner | undefined,
      lessonId: string,
    ): ContentAccessView | Promise<ContentAccessView> {
      const kept = keptAccess(learner, lessonId);
      if (!kept) return check(learner, lessonId).then((access) => withUrl(access, learner, lessonId));
      return withUrl(kept, learner, lessonId);
    },

    /**
     * Opens a signed content URL: checks the MAC (lesson, user, expiry) with the module's clock,
     * then hands over a catalog asset URL that lives just long enough to be followed.
     */
    async openContent(lessonId: string, query: { u: string; exp: number; sig: string }): Promise<string> {
      const verdict = await signer.verify(
        lessonId,
        query.u,
        query.exp,
        query.sig,
        Math.floor(clock().getTime() / 1000),
      );
      if (verdict === 'invalid') {
        throw AppError.forbidden(
          LearningErrors.contentUrlInvalid,
          'This content URL is not valid for this lesson.',
        );
      }
      if (verdict === 'expired') {
        throw new AppError(
          'gone',
          LearningErrors.contentUrlExpired,
          'This content URL has expired; ask for a new one.',
        );
      }
      const { lesson } = await lessonInCourse(lessonId);
      if (!lesson.assetId) {
        throw AppError.conflict(
          LearningErrors.lessonHasNoFile,
          'This lesson has no file; its text is read through the lesson itself.',
        );
      }
      return (await catalog.signAssetUrl(lesson.assetId, 60)).url;
    },
  };
}

export type AccessService = ReturnType<typeof createAccessService>;
