import type { Insertable, Kysely, Updateable } from 'kysely';
import type { CatalogTables, ChapterTable, LessonTable } from './tables.js';

type Db = Kysely<CatalogTables>;

export function findLesson(db: Db, id: string) {
  return db.selectFrom('catalog.lessons').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findChapter(db: Db, id: string) {
  return db.selectFrom('catalog.chapters').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The outline changed: the course's clock moves on. */
export async function touchCourse(db: Db, courseId: string): Promise<void> {
  await db
    .updateTable('catalog.courses')
    .set({ updated_at: new Date() })
    .where('id', '=', courseId)
    .execute();
}

export async function nextChapterPosition(db: Db, courseId: string): Promise<number> {
  const { last } = await db
    .selectFrom('catalog.chapters')
    .select((eb) => eb.fn.coalesce(eb.fn.max('position'), eb.lit(-1)).as('last'))
    .where('course_id', '=', courseId)
    .executeTakeFirstOrThrow();
  return last + 1;
}

export async function nextLessonPosition(db: Db, chapterId: string): Promise<number> {
  const { last } = await db
    .selectFrom('catalog.lessons')
    .select((eb) => eb.fn.coalesce(eb.fn.max('position'), eb.lit(-1)).as('last'))
    .where('chapter_id', '=', chapterId)
    .executeTakeFirstOrThrow();
  return last + 1;
}

export function insertChapter(db: Db, values: Insertable<ChapterTable>) {
  return db.insertInto('catalog.chapters').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateChapter(db: Db, id: string, set: Updateable<ChapterTable>) {
  return db
    .updateTable('catalog.chapters')
    .set(set)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function chapterHasLessons(db: Db, chapterId: string): Promise<boolean> {
  const lesson = await db
    .selectFrom('catalog.lessons')
    .select('id')
    .where('chapter_id', '=', chapterId)
    .executeTakeFirst();
  return lesson !== undefined;
}

export async function deleteChapter(db: Db, id: string): Promise<void> {
  await db.deleteFrom('catalog.chapters').where('id', '=', id).execute();
}

export function insertLesson(db: Db, values: Insertable<LessonTable>) {
  return db.insertInto('catalog.lessons').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateLesson(db: Db, id: string, set: Updateable<LessonTable>) {
  return db
    .updateTable('catalog.lessons')
    .set(set)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteLesson(db: Db, id: string): Promise<void> {
  await db.deleteFrom('catalog.lessons').where('id', '=', id).execute();
}

/** Ids of a course's chapters and lessons, to check a new order against. */
export async function outlineIds(
  db: Db,
  courseId: string,
): Promise<{ chapters: string[]; lessons: string[] }> {
  const [chapters, lessons] = await Promise.all([
    db.selectFrom('catalog.chapters').select('id').where('course_id', '=', courseId).execute(),
    db.selectFrom('catalog.lessons').select('id').where('course_id', '=', courseId).execute(),
  ]);
  return { chapters: chapters.map((c) => c.id), lessons: lessons.map((l) => l.id) };
}

export async function setChapterPosition(db: Db, id: string, position: number): Promise<void> {
  await db.updateTable('catalog.chapters').set({ position }).where('id', '=', id).execute();
}

export async function moveLesson(db: Db, id: string, chapterId: string, position: number): Promise<void> {
  await db
    .updateTable('catalog.lessons')
    .set({ chapter_id: chapterId, position, updated_at: new Date() })
    .where('id', '=', id)
    .execute();
}

/** Every lesson of a course as other modules see it, in outline order (learning's progress). */
export function lessonSummariesOfCourse(db: Db, courseId: string) {
  return db
    .selectFrom('catalog.lessons as l')
    .innerJoin('catalog.chapters as c', 'c.id', 'l.chapter_id')
    .select([
      'l.id',
      'l.course_id',
      'l.title',
      'l.kind',
      'l.free_preview',
      'l.asset_id',
      'l.duration_seconds',
    ])
    .where('l.course_id', '=', courseId)
    .orderBy('c.position')
    .orderBy('l.position')
    .execute();
}

/** A lesson as other modules see it (learning, community). */
export function lessonSummary(db: Db, id: string) {
  return db
    .selectFrom('catalog.lessons')
    .select(['id', 'course_id', 'title', 'kind', 'free_preview', 'asset_id', 'duration_seconds'])
    .where('id', '=', id)
    .executeTakeFirst();
}
