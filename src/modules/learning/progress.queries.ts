import { type Kysely, type OnConflictBuilder, sql } from 'kysely';
import { namedRows } from '../../platform/db/prepared.js';
import { keyset } from '../../platform/http/pagination.js';
import type { LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

export interface ProgressKeys {
  userId: string;
  courseId: string;
  lessonId: string;
}

/** The rows a report is decided on: the lesson's, with the course's count and completion. */
export interface SeenProgress {
  completed_lessons: number;
  course_completed_at: Date | null;
  max_position: number;
  resume_position: number;
  client_reported_at: Date | null;
  last_reported_at: Date | null;
  completed_at: Date | null;
}

/**
 * Both rows as they are now, without locks; undefined when either does not exist yet. This and
 * the compare-and-set below are every heartbeat's two statements: SQL text run as named prepared
 * statements (platform/db/prepared.ts), not built with the query builder, whose building and
 * compiling of the two was 17 % of the server's CPU a progress write in a profile (2026-12-06).
 */
export async function readProgress(db: Db, keys: ProgressKeys): Promise<SeenProgress | undefined> {
  const [row] = await namedRows<SeenProgress, LearningTables>(
    db,
    'learning.progress.read',
    `select c.completed_lessons, c.completed_at as course_completed_at, l.max_position,
        l.resume_position, l.client_reported_at, l.last_reported_at, l.completed_at
      from learning.course_progress c
      join learning.lesson_progress l on l.user_id = c.user_id and l.lesson_id = $3
      where c.user_id = $1 and c.course_id = $2`,
    [keys.userId, keys.courseId, keys.lessonId],
  );
  return row;
}

/**
 * The lesson row, then the learner's course row, each created if need be and locked until the
 * transaction ends, in one round trip. Every locked report of one learner in one course then runs
 * after the previous one committed, so lesson counts and the course's completion are decided once.
 * The course row's insert reads the lesson row's `returning`, so the lesson row is always locked
 * first, as `writeProgressIfUnchanged` does: one order, no deadlock between two reports.
 */
export function lockProgress(db: Db, keys: ProgressKeys, at: Date): Promise<SeenProgress> {
  return db
    .with('lp', (qb) =>
      qb
        .insertInto('learning.lesson_progress')
        .values({ user_id: keys.userId, lesson_id: keys.lessonId, course_id: keys.courseId })
        .onConflict((oc) =>
          oc.columns(['user_id', 'lesson_id']).doUpdateSet({ user_id: (eb) => eb.ref('excluded.user_id') }),
        )
        .returningAll(),
    )
    .with('cp', (qb) =>
      qb
        .insertInto('learning.course_progress')
        .columns(['user_id', 'course_id', 'last_activity_at'])
        .expression((eb) =>
          eb.selectFrom('lp').select(['lp.user_id', 'lp.course_id', sql<Date>`${at}::timestamptz`.as('at')]),
        )
        .onConflict((oc) =>
          oc.columns(['user_id', 'course_id']).doUpdateSet({ user_id: (eb) => eb.ref('excluded.user_id') }),
        )
        .returning(['completed_lessons', 'completed_at']),
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

export interface LessonChange {
  max_position: number;
  resume_position: number;
  client_reported_at: Date | null;
  last_reported_at: Date;
  completed_at: Date | null;
}

export interface CourseChange {
  last_lesson_id: string;
  resume_position: number;
  last_activity_at: Date;
}

export interface Credit {
  day: string;
  seconds: number;
}

/** A day's learning time adds up: the day's row, when there is one, gets the new seconds added. */
const addToDay = (seconds: number) => (oc: OnConflictBuilder<LearningTables, 'learning.daily_time'>) =>
  oc
    .columns(['user_id', 'day'])
    .doUpdateSet({ seconds: sql<number>`learning.daily_time.seconds + ${seconds}` });

/** The report's lesson row, for an update. */
const lessonRow = (db: Db, keys: ProgressKeys, lesson: LessonChange) =>
  db
    .updateTable('learning.lesson_progress')
    .set(lesson)
    .where('user_id', '=', keys.userId)
    .where('lesson_id', '=', keys.lessonId);

/**
 * A locked report's changes in one statement: the lesson row, the course row (with its count and
 * completion), and the day's learning time when `credit.seconds` > 0.
 */
export async function writeProgress(
  db: Db,
  keys: ProgressKeys,
  lesson: LessonChange,
  course: CourseChange & { completed_lessons: number; completed_at: Date | null },
  credit: Credit,
): Promise<void> {
  const withLesson = db.with('lp', () => lessonRow(db, keys, lesson));
  const withTime =
    credit.seconds > 0
      ? withLesson.with('dt', (qb) =>
          qb
            .insertInto('learning.daily_time')
            .values({ user_id: keys.userId, day: credit.day, seconds: credit.seconds })
            .onConflict(addToDay(credit.seconds)),
        )
      : withLesson;
  await withTime
    .updateTable('learning.course_progress')
    .set(course)
    .where('user_id', '=', keys.userId)
    .where('course_id', '=', keys.courseId)
    .execute();
}

/** The compare-and-set's text, with the day's learning time ($17, $18) or without. */
const compareAndSet = (withTime: boolean) => `
  with lp as (
    update learning.lesson_progress
      set max_position = $4, resume_position = $5, client_reported_at = $6, last_reported_at = $7,
        completed_at = $8
      where user_id = $1 and lesson_id = $3
        and max_position = $9 and resume_position = $10
        and client_reported_at is not distinct from $11 and last_reported_at is not distinct from $12
        and completed_at is not distinct from $13
      returning user_id
  )${
    withTime
      ? `, dt as (
    insert into learning.daily_time (user_id, day, seconds)
      select lp.user_id, $17::date, $18::integer from lp
      on conflict (user_id, day) do update set seconds = learning.daily_time.seconds + $18
  )`
      : ''
  }
  update learning.course_progress
    set last_lesson_id = $14, resume_position = $15, last_activity_at = $16
    where user_id = $1 and course_id = $2 and exists (select lp.user_id from lp)
    returning user_id`;
const COMPARE_AND_SET = compareAndSet(false);
const COMPARE_AND_SET_WITH_TIME = compareAndSet(true);

/**
 * A report that completes nothing, decided on `seen` without locks, in one statement: the lesson
 * row changes only if it is still exactly as seen (a compare-and-set: the update re-checks its
 * conditions on the newest row), and the course row and learning time only with it. False when
 * another report came first: decide again under the locks.
 */
export async function writeProgressIfUnchanged(
  db: Db,
  keys: ProgressKeys,
  seen: SeenProgress,
  lesson: LessonChange,
  course: CourseChange,
  credit: Credit,
): Promise<boolean> {
  const withTime = credit.seconds > 0;
  const values: unknown[] = [
    keys.userId,
    keys.courseId,
    keys.lessonId,
    lesson.max_position,
    lesson.resume_position,
    lesson.client_reported_at,
    lesson.last_reported_at,
    lesson.completed_at,
    seen.max_position,
    seen.resume_position,
    seen.client_reported_at,
    seen.last_reported_at,
    seen.completed_at,
    course.last_lesson_id,
    course.resume_position,
    course.last_activity_at,
  ];
  if (withTime) values.push(credit.day, credit.seconds);
  const updated = await namedRows<{ user_id: string }, LearningTables>(
    db,
    withTime ? 'learning.progress.cas-time' : 'learning.progress.cas',
    withTime ? COMPARE_AND_SET_WITH_TIME : COMPARE_AND_SET,
    values,
  );
  return updated.length > 0;
}

/** A `learning.daily_time` row's day as `YYYY-MM-DD`, selected as `day`. */
export const dayText = sql<string>`to_char(day, 'YYYY-MM-DD')`.as('day');

export function dailyTime(db: Db, userId: string, fromDay: string) {
  return db
    .selectFrom('learning.daily_time')
    .select([dayText, 'seconds'])
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
