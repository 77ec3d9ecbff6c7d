import { type Kysely, sql } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

/**
 * The learner's course row, then the lesson row, each created if need be and locked until the
 * transaction ends, in one round trip. Every report of one learner in one course then runs after
 * the previous one committed, so lesson counts and the course's completion are decided once. The
 * lesson's insert reads the course row's `returning`, so the course row is always locked first
 * (one order for every report: no deadlock between two of them).
 */
export function lockProgress(db: Db, userId: string, courseId: string, lessonId: string, at: Date) {
  return db
    .with('cp', (qb) =>
      qb
        .insertInto('learning.course_progress')
        .values({ user_id: userId, course_id: courseId, last_activity_at: at })
        .onConflict((oc) =>
          oc.columns(['user_id', 'course_id']).doUpdateSet({ user_id: (eb) => eb.ref('excluded.user_id') }),
        )
        .returning(['user_id', 'course_id', 'completed_lessons', 'completed_at']),
    )
    .with('lp', (qb) =>
      qb
        .insertInto('learning.lesson_progress')
        .columns(['user_id', 'lesson_id', 'course_id'])
        .expression((eb) =>
          eb
            .selectFrom('cp')
            .select(['cp.user_id', sql<string>`${lessonId}::uuid`.as('lesson_id'), 'cp.course_id']),
        )
        .onConflict((oc) =>
          oc.columns(['user_id', 'lesson_id']).doUpdateSet({ user_id: (eb) => eb.ref('excluded.user_id') }),
        )
        .returningAll(),
    )
    .selectFrom(['cp', 'lp'])
    .select([
      'cp.completed_lessons',
      'cp.completed_at as course_completed_at',
      'lp.max_position',
      'lp.resume_position',
      'lp.client_reported_at',
      'lp.last_reported_at',
      'lp.completed_at',
    ])
    .executeTakeFirstOrThrow();
}

/**
 * An accepted report's changes in one statement: the lesson row, the course row, and the day's
 * learning time when `creditSeconds` > 0. The rows are already locked by `lockProgress`.
 */
export async function writeProgress(
  db: Db,
  keys: { userId: string; courseId: string; lessonId: string },
  lesson: {
    max_position: number;
    resume_position: number;
    client_reported_at: Date | null;
    last_reported_at: Date;
    completed_at: Date | null;
  },
  course: {
    completed_lessons: number;
    last_lesson_id: string;
    resume_position: number;
    last_activity_at: Date;
    completed_at: Date | null;
  },
  credit: { day: string; seconds: number },
): Promise<void> {
  const { userId, courseId, lessonId } = keys;
  const withLesson = db.with('lp', (qb) =>
    qb
      .updateTable('learning.lesson_progress')
      .set(lesson)
      .where('user_id', '=', userId)
      .where('lesson_id', '=', lessonId),
  );
  const withTime =
    credit.seconds > 0
      ? withLesson.with('dt', (qb) =>
          qb
            .insertInto('learning.daily_time')
            .values({ user_id: userId, day: credit.day, seconds: credit.seconds })
            .onConflict((oc) =>
              oc
                .columns(['user_id', 'day'])
                .doUpdateSet({ seconds: sql<number>`learning.daily_time.seconds + ${credit.seconds}` }),
            ),
        )
      : withLesson;
  await withTime
    .updateTable('learning.course_progress')
    .set(course)
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
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
