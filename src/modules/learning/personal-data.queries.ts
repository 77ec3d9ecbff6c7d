import type { Kysely } from 'kysely';
import { type ExportSections, pagedSection } from '../../platform/personal-data.js';
import { dayText } from './progress.queries.js';
import type { GrantSource, LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

/** A grant's source id is an order id for `order` and '' otherwise (tables.ts). */
const orderIdOf = (source: GrantSource, sourceId: string): string | null =>
  source === 'order' && sourceId ? sourceId : null;

// each page reads one user's rows after the last row of the page before, in the order of a
// unique key of that table

interface GrantRow {
  course_id: string;
  source: GrantSource;
  source_id: string;
  granted_at: Date;
}

const grantsPage = (db: Db, userId: string) => (after: GrantRow | undefined, size: number) => {
  let query = db
    .selectFrom('learning.grants')
    .select(['course_id', 'source', 'source_id', 'granted_at'])
    .where('user_id', '=', userId);
  if (after) {
    query = query.where((eb) =>
      eb(
        eb.refTuple('course_id', 'source', 'source_id'),
        '>',
        eb.tuple(after.course_id, after.source, after.source_id),
      ),
    );
  }
  return query.orderBy('course_id').orderBy('source').orderBy('source_id').limit(size).execute();
};

const courseProgressPage =
  (db: Db, userId: string) => (after: { course_id: string } | undefined, size: number) => {
    let query = db
      .selectFrom('learning.course_progress')
      .select([
        'course_id',
        'completed_lessons',
        'last_lesson_id',
        'resume_position',
        'last_activity_at',
        'completed_at',
      ])
      .where('user_id', '=', userId);
    if (after) query = query.where('course_id', '>', after.course_id);
    return query.orderBy('course_id').limit(size).execute();
  };

const lessonProgressPage =
  (db: Db, userId: string) => (after: { lesson_id: string } | undefined, size: number) => {
    let query = db
      .selectFrom('learning.lesson_progress')
      .select([
        'lesson_id',
        'course_id',
        'max_position',
        'resume_position',
        'client_reported_at',
        'last_reported_at',
        'completed_at',
      ])
      .where('user_id', '=', userId);
    if (after) query = query.where('lesson_id', '>', after.lesson_id);
    return query.orderBy('lesson_id').limit(size).execute();
  };

const dailyTimePage = (db: Db, userId: string) => (after: { day: string } | undefined, size: number) => {
  let query = db.selectFrom('learning.daily_time').select([dayText, 'seconds']).where('user_id', '=', userId);
  if (after) query = query.where('learning.daily_time.day', '>', after.day);
  return query.orderBy('learning.daily_time.day').limit(size).execute();
};

const certificatesPage = (db: Db, userId: string) => (after: { id: string } | undefined, size: number) => {
  let query = db
    .selectFrom('learning.certificates')
    .select(['id', 'course_id', 'course_title', 'learner_name', 'verification_id', 'issued_at'])
    .where('user_id', '=', userId);
  if (after) query = query.where('id', '>', after.id);
  return query.orderBy('id').limit(size).execute();
};

/**
 * What learning holds about `userId`, as the sections of its part of a personal-data export.
 * Every section is paged (each page one short query on `db`, the inbox transaction) and read only
 * while the part is written. Left out on purpose: an admin grant's or revocation's `reason` (free
 * text an administrator wrote, which may name other people), refund tombstones (keyed by order,
 * they name no user; commerce's part holds the user's refunds), revoked grants (their rows are
 * deleted) and the inbox (event ids only).
 */
export function learningExportSections(db: Db, userId: string, pageSize?: number): ExportSections {
  return {
    entitlements: pagedSection(
      grantsPage(db, userId),
      (r) => ({
        courseId: r.course_id,
        source: r.source,
        orderId: orderIdOf(r.source, r.source_id),
        grantedAt: r.granted_at,
      }),
      pageSize,
    ),
    courseProgress: pagedSection(
      courseProgressPage(db, userId),
      (r) => ({
        courseId: r.course_id,
        completedLessons: r.completed_lessons,
        lastLessonId: r.last_lesson_id,
        resumePosition: r.resume_position,
        lastActivityAt: r.last_activity_at,
        completedAt: r.completed_at,
      }),
      pageSize,
    ),
    lessonProgress: pagedSection(
      lessonProgressPage(db, userId),
      (r) => ({
        lessonId: r.lesson_id,
        courseId: r.course_id,
        furthestPosition: r.max_position,
        resumePosition: r.resume_position,
        lastReportedAt: r.last_reported_at,
        clientReportedAt: r.client_reported_at,
        completedAt: r.completed_at,
      }),
      pageSize,
    ),
    learningTime: pagedSection(
      dailyTimePage(db, userId),
      (r) => ({ day: r.day, seconds: r.seconds }),
      pageSize,
    ),
    certificates: pagedSection(
      certificatesPage(db, userId),
      (r) => ({
        id: r.id,
        courseId: r.course_id,
        courseTitle: r.course_title,
        learnerName: r.learner_name,
        verificationId: r.verification_id,
        issuedAt: r.issued_at,
      }),
      pageSize,
    ),
  };
}
