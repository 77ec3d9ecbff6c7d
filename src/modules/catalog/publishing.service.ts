import type { Kysely, Updateable } from 'kysely';
import { inTransaction } from '../../platform/db/database.js';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { NewEvent } from '../../platform/messaging/types.js';
import type { CatalogCache } from './catalog.cache.js';
import { CatalogErrors } from './catalog.errors.js';
import { trimText } from '../../platform/text.js';
import {
  CourseArchivedEvent,
  CoursePublishedEvent,
  CourseRejectedEvent,
  CourseSubmittedEvent,
} from './catalog.events.js';
import { type Actor, courseNotFound, courseUpdatedEvent, loadEditable } from './course.access.js';
import { type CourseDetailView, courseDetail, type Urls } from './course.views.js';
import {
  type CourseRow,
  courseFacts,
  findCourse,
  instructorsOfCourses,
  lessonContentOfCourse,
  updateCourse,
} from './courses.queries.js';
import { can } from './permissions.js';
import type { CatalogTables, CourseStatus, CourseTable } from './tables.js';

type Db = Kysely<CatalogTables>;

export type Transition = 'submit' | 'withdraw' | 'approve' | 'reject' | 'archive';

const TRANSITIONS: Record<Transition, { from: CourseStatus; to: CourseStatus; reviewerOnly: boolean }> = {
  submit: { from: 'draft', to: 'in_review', reviewerOnly: false },
  withdraw: { from: 'in_review', to: 'draft', reviewerOnly: false },
  approve: { from: 'in_review', to: 'published', reviewerOnly: true },
  reject: { from: 'in_review', to: 'draft', reviewerOnly: true },
  archive: { from: 'published', to: 'archived', reviewerOnly: false },
};

/** The publishing workflow: draft → in review → published → archived, and the events it announces. */
export function createPublishingService(deps: { db: Db; cache: CatalogCache; urls: Urls }) {
  const { db, cache, urls } = deps;

  /** What stops a course from going to review, as problem fields the studio can point at. */
  async function completenessProblems(trx: Db, courseId: string): Promise<FieldProblem[]> {
    const lessons = await lessonContentOfCourse(trx, courseId);
    if (lessons.length === 0) return [{ field: '/chapters', message: 'The course has no lessons.' }];
    return lessons
      .filter((l) => (l.kind === 'article' ? trimText(l.body ?? '') === '' : l.asset_id === null))
      .map((l) => ({ field: `/lessons/${l.id}`, message: `Lesson "${l.title}" has no content yet.` }));
  }

  async function eventsOf(
    trx: Db,
    action: Transition,
    row: CourseRow,
    reason: string | undefined,
    now: Date,
  ): Promise<NewEvent[]> {
    const courseId = row.id;
    switch (action) {
      case 'submit':
        return [CourseSubmittedEvent.create(courseId, { courseId, ownerId: row.owner_id, title: row.title })];
      case 'withdraw':
        return [await courseUpdatedEvent(trx, row, ['status'])];
      case 'reject':
        return [
          CourseRejectedEvent.create(courseId, {
            courseId,
            ownerId: row.owner_id,
            title: row.title,
            reason: reason ?? '',
          }),
        ];
      case 'approve': {
        const [instructors, facts] = await Promise.all([
          instructorsOfCourses(trx, [courseId]),
          courseFacts(trx, row),
        ]);
        const instructorIds = instructors.map((i) => i.id);
        return [
          CoursePublishedEvent.create(courseId, {
            courseId,
            ownerId: row.owner_id,
            instructorIds,
            title: row.title,
            priceAmount: row.price_amount,
            currency: row.currency,
            publishedAt: (row.published_at ?? now).toISOString(),
            categoryId: row.category_id,
            category: facts.category,
            tags: facts.tags,
          }),
        ];
      }
      case 'archive':
        return [
          CourseArchivedEvent.create(courseId, {
            courseId,
            ownerId: row.owner_id,
            archivedAt: now.toISOString(),
          }),
        ];
    }
  }

  return {
    async transition(
      actor: Actor,
      courseId: string,
      action: Transition,
      givenReason?: string,
    ): Promise<CourseDetailView> {
      const rule = TRANSITIONS[action];
      const reason = givenReason === undefined ? undefined : trimText(givenReason);
      const detail = await inTransaction(db, async (trx) => {
        const course = await loadEditable(trx, courseId, actor);
        if (rule.reviewerOnly && !can(actor.roles, 'courses:review')) {
          throw AppError.forbidden(CatalogErrors.adminRequired, 'Only an admin reviews courses.');
        }
        if (course.status !== rule.from) {
          throw AppError.conflict(
            CatalogErrors.invalidTransition,
            `Cannot ${action} a course that is ${course.status.replace('_', ' ')}.`,
          );
        }
        if (action === 'submit') {
          const problems = await completenessProblems(trx, courseId);
          if (problems.length > 0) {
            throw new AppError(
              'conflict',
              CatalogErrors.courseIncomplete,
              'The course is not ready for review.',
              {
                fields: problems,
              },
            );
          }
        }
        const now = new Date();
        const set: Updateable<CourseTable> = { status: rule.to, updated_at: now };
        if (action === 'submit') set.submitted_at = now;
        if (action === 'approve') {
          set.published_at = course.published_at ?? now;
          set.review_note = null;
        }
        if (action === 'reject') {
          if (!reason) {
            throw AppError.validation(CatalogErrors.reasonRequired, 'Say why the course is sent back.', [
              { field: '/body/reason', message: 'must not be blank' },
            ]);
          }
          set.review_note = reason;
        }
        if (action === 'archive') set.archived_at = now;
        await updateCourse(trx, courseId, set);
        const row = await findCourse(trx, courseId);
        if (!row) throw courseNotFound();
        await enqueue(trx, 'catalog', await eventsOf(trx, action, row, reason, now));
        return courseDetail(trx, urls, row, true);
      });
      await cache.invalidateCourse(courseId);
      return detail;
    },
  };
}

export type PublishingService = ReturnType<typeof createPublishingService>;
