import type { Kysely } from 'kysely';
import type { CatalogTables } from './tables.js';

type Db = Kysely<CatalogTables>;

export function findInstructor(db: Db, id: string) {
  return db.selectFrom('catalog.instructors').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Creates the copy unless it exists; `rename` also overwrites the name of an existing one. */
export async function upsertInstructorName(
  db: Db,
  row: { id: string; displayName: string; headline?: string },
  rename: boolean,
): Promise<void> {
  await db
    .insertInto('catalog.instructors')
    .values({ id: row.id, display_name: row.displayName, headline: row.headline ?? '' })
    .onConflict((oc) =>
      rename
        ? oc.column('id').doUpdateSet({ display_name: row.displayName, updated_at: new Date() })
        : oc.column('id').doNothing(),
    )
    .execute();
}

/** Overwrites the profile of a known instructor; false when the catalog has no such instructor. */
export async function updateInstructorProfile(
  db: Db,
  id: string,
  profile: { displayName: string; headline: string; bio: string },
): Promise<boolean> {
  const updated = await db
    .updateTable('catalog.instructors')
    .set({
      display_name: profile.displayName,
      headline: profile.headline,
      bio: profile.bio,
      updated_at: new Date(),
    })
    .where('id', '=', id)
    .executeTakeFirst();
  return updated.numUpdatedRows > 0n;
}

export async function coursesOfInstructor(db: Db, instructorId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('catalog.course_instructors')
    .select('course_id')
    .where('instructor_id', '=', instructorId)
    .execute();
  return rows.map((r) => r.course_id);
}

export async function publishedCourseCount(db: Db, instructorId: string): Promise<number> {
  const { count } = await db
    .selectFrom('catalog.course_instructors as ci')
    .innerJoin('catalog.courses as c', 'c.id', 'ci.course_id')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('ci.instructor_id', '=', instructorId)
    .where('c.status', '=', 'published')
    .executeTakeFirstOrThrow();
  return count;
}
