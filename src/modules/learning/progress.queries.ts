import { type Kysely, sql } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

/**
 * The learner's course row, created if need be and locked until the transaction ends: every
 * report of one learner in one course then runs after the previous one committed, so lesson
 * counts and the course's completion are decided once.
 */
export function lockCourseProgress(db: Db, userId: string, courseId: string, at: Date) {
  return db
    .insertInto('learning.course_progress')
    .values({ user_id: userId, course_id: courseId, last_activity_at: at })
    .onConflict((oc) =>
      oc.columns(['user_id', 'course_id']).doUpdateSet({ user_id: (eb) => eb.ref('excluded.user_id') }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function lockLessonProgress(db: Db, userId: string, lessonId: string, courseId: string) {
  return db
    .insertInto('learning.lesson_progress')
    .values({ user_id: userId, lesson_id: lessonId, course_id: courseId })
    .onConflict((oc) =>
      oc.columns(['user_id', 'lesson_id']).doUpdateSet({ user_id: (eb) => eb.ref('excluded.user_id') }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateLessonProgress(
  db: Db,
  userId: string,
  lessonId: string,
  patch: {
    max_position: number;
    resume_position: number;
    client_reported_at: Date | null;
    last_reported_at: Date;
    completed_at: Date | null;
  },
): Promise<void> {
  await db
    .updateTable('learning.lesson_progress')
    .set(patch)
    .where('user_id', '=', userId)
    .where('lesson_id', '=', lessonId)
    .execute();
}

export async function updateCourseProgress(
  db: Db,
  userId: string,
  courseId: string,
  patch: {
    completed_lessons: number;
    last_lesson_id: string;
    resume_position: number;
    last_activity_at: Date;
    completed_at: Date | null;
  },
): Promise<void> {
  await db
    .updateTable('learning.course_progress')
    .set(patch)
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .execute();
}

export async function addDailyTime(db: Db, userId: string, day: string, seconds: number): Promise<void> {
  await db
    .insertInto('learning.daily_time')
    .values({ user_id: userId, day, seconds })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'day'])
        .doUpdateSet({ seconds: sql<number>`learning.daily_time.seconds + ${seconds}` }),
    )
    .execute();
}

export function dailyTime(db: Db, userId: string, fromDay: string) {
  return db
    .selectFrom('learning.daily_time')
    .select([sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day'), 'seconds'])
    .where('user_id', '=', userId)
    .where('day', '>=', fromDay)
    .orderBy('day')
    .execute();
}

export const MY_LEARNING_CURSOR = ['date-time', 'uuid'] as const;

/** Courses the learner may open now, most recently active first. */
export function myCourses(db: Db, userId: string, page: { limit: number; cursor?: string | undefined }) {
  return keyset(
    db
      .selectFrom('learning.course_progress as p')
      .selectAll('p')
      .where('p.user_id', '=', userId)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('learning.grants as g')
            .select('g.user_id')
            .whereRef('g.user_id', '=', 'p.user_id')
            .whereRef('g.course_id', '=', 'p.course_id'),
        ),
      ),
    {
      columns: ['p.last_activity_at', 'p.course_id'],
      direction: 'desc',
      limit: page.limit,
      cursor: page.cursor,
      shape: MY_LEARNING_CURSOR,
    },
  ).execute();
}

export function lessonProgressOfCourse(db: Db, userId: string, courseId: string) {
  return db
    .selectFrom('learning.lesson_progress')
    .select(['lesson_id', 'max_position', 'completed_at'])
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .execute();
}
