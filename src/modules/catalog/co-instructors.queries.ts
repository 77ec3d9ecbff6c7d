import type { Kysely } from 'kysely';
import type { CatalogTables, InvitationStatus } from './tables.js';

type Db = Kysely<CatalogTables>;

export function findInvitation(db: Db, courseId: string, instructorId: string) {
  return db
    .selectFrom('catalog.instructor_invitations')
    .selectAll()
    .where('course_id', '=', courseId)
    .where('instructor_id', '=', instructorId)
    .forUpdate()
    .executeTakeFirst();
}

export async function insertInvitation(
  db: Db,
  row: { course_id: string; instructor_id: string; invited_by: string },
): Promise<boolean> {
  const inserted = await db
    .insertInto('catalog.instructor_invitations')
    .values(row)
    .onConflict((oc) => oc.columns(['course_id', 'instructor_id']).doNothing())
    .returning('course_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function setInvitationStatus(
  db: Db,
  courseId: string,
  instructorId: string,
  status: InvitationStatus,
): Promise<void> {
  await db
    .updateTable('catalog.instructor_invitations')
    .set({ status })
    .where('course_id', '=', courseId)
    .where('instructor_id', '=', instructorId)
    .execute();
}

export async function deleteInvitation(db: Db, courseId: string, instructorId: string): Promise<void> {
  await db
    .deleteFrom('catalog.instructor_invitations')
    .where('course_id', '=', courseId)
    .where('instructor_id', '=', instructorId)
    .execute();
}

/** An instructor's open invitations, newest first, with the course's title and status. */
export function invitationsOfInstructor(db: Db, instructorId: string) {
  return db
    .selectFrom('catalog.instructor_invitations as i')
    .innerJoin('catalog.courses as c', 'c.id', 'i.course_id')
    .select([
      'i.course_id',
      'i.invited_by',
      'i.status',
      'i.created_at',
      'c.title',
      'c.status as course_status',
    ])
    .where('i.instructor_id', '=', instructorId)
    .where('c.status', '!=', 'archived')
    .orderBy('i.created_at', 'desc')
    .orderBy('i.course_id')
    .limit(200)
    .execute();
}

export function invitationsOfCourse(db: Db, courseId: string) {
  return db
    .selectFrom('catalog.instructor_invitations as i')
    .innerJoin('catalog.instructors as p', 'p.id', 'i.instructor_id')
    .select(['i.instructor_id', 'p.display_name', 'i.invited_by', 'i.status', 'i.created_at'])
    .where('i.course_id', '=', courseId)
    .orderBy('i.created_at')
    .orderBy('i.instructor_id')
    .execute();
}

export async function isCourseInstructor(db: Db, courseId: string, instructorId: string): Promise<boolean> {
  const row = await db
    .selectFrom('catalog.course_instructors')
    .select('instructor_id')
    .where('course_id', '=', courseId)
    .where('instructor_id', '=', instructorId)
    .executeTakeFirst();
  return row !== undefined;
}

/** Appends an instructor after the course's current ones. */
export async function addCourseInstructor(db: Db, courseId: string, instructorId: string): Promise<void> {
  const last = await db
    .selectFrom('catalog.course_instructors')
    .select((eb) => eb.fn.max('position').as('position'))
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  await db
    .insertInto('catalog.course_instructors')
    .values({ course_id: courseId, instructor_id: instructorId, position: (last?.position ?? -1) + 1 })
    .onConflict((oc) => oc.columns(['course_id', 'instructor_id']).doNothing())
    .execute();
}

export async function removeCourseInstructor(
  db: Db,
  courseId: string,
  instructorId: string,
): Promise<boolean> {
  const removed = await db
    .deleteFrom('catalog.course_instructors')
    .where('course_id', '=', courseId)
    .where('instructor_id', '=', instructorId)
    .returning('instructor_id')
    .executeTakeFirst();
  return removed !== undefined;
}
