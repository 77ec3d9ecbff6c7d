import type { Kysely } from 'kysely';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import type { Actor } from './course.access.js';
import type { CatalogCache } from './catalog.cache.js';
import { refreshSearchDocument } from './courses.queries.js';
import type { CatalogTables } from './tables.js';

/**
 * Where a new instructor's display name comes from the first time they create a course: the
 * identity module's user lookup when it is wired in (registry.ts), else a placeholder the
 * instructor replaces through PUT /instructors/me.
 */
export interface InstructorDirectory {
  displayNameOf(userId: string): Promise<string | undefined>;
}

export interface InstructorProfile {
  id: string;
  displayName: string;
  headline: string;
  bio: string;
}

type Db = Kysely<CatalogTables>;

export function findInstructor(db: Db, id: string) {
  return db.selectFrom('catalog.instructors').selectAll().where('id', '=', id).executeTakeFirst();
}

const placeholderName = (userId: string) => `Instructor ${userId.slice(0, 8)}`;

export function createInstructorsService(
  db: Db,
  read: Db,
  cache: CatalogCache,
  directory?: InstructorDirectory,
) {
  async function refreshCoursesOf(trx: Db, instructorId: string): Promise<string[]> {
    const courses = await trx
      .selectFrom('catalog.course_instructors')
      .select('course_id')
      .where('instructor_id', '=', instructorId)
      .execute();
    for (const { course_id } of courses) await refreshSearchDocument(trx, course_id);
    return courses.map((c) => c.course_id);
  }

  return {
    /**
     * The catalog's copy of the instructor, created on first use. Not inside a transaction: it
     * may ask identity (another module) for the name.
     */
    async ensure(db: Db, userId: string): Promise<void> {
      if (await findInstructor(db, userId)) return;
      let name: string | undefined;
      try {
        name = await directory?.displayNameOf(userId);
      } catch {
        // the directory is a convenience: a placeholder now beats failing the instructor's request
        name = undefined;
      }
      await db
        .insertInto('catalog.instructors')
        .values({ id: userId, display_name: name?.trim() || placeholderName(userId) })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },

    async updateOwn(
      actor: Actor,
      input: { displayName: string; headline?: string | undefined; bio?: string | undefined },
    ) {
      const displayName = input.displayName.trim();
      if (displayName.length === 0) {
        throw AppError.validation('catalog.display-name-required', 'The display name cannot be blank.', [
          { field: '/body/displayName', message: 'must not be blank' },
        ]);
      }
      const { profile, courseIds } = await inTransaction(db, async (trx) => {
        const row = await trx
          .insertInto('catalog.instructors')
          .values({
            id: actor.userId,
            display_name: displayName,
            headline: input.headline ?? '',
            bio: input.bio ?? '',
          })
          .onConflict((oc) =>
            oc.column('id').doUpdateSet({
              display_name: displayName,
              ...(input.headline !== undefined ? { headline: input.headline } : {}),
              ...(input.bio !== undefined ? { bio: input.bio } : {}),
              updated_at: new Date(),
            }),
          )
          .returningAll()
          .executeTakeFirstOrThrow();
        return { profile: row, courseIds: await refreshCoursesOf(trx, actor.userId) };
      });
      await cache.invalidateCourse(...courseIds);
      return toProfile(profile);
    },

    /** From `identity.instructor.approved`: keep the catalog's copy of the name current. */
    async applyApproved(trx: Db, userId: string, displayName: string | undefined): Promise<string[]> {
      const name = displayName?.trim();
      await trx
        .insertInto('catalog.instructors')
        .values({ id: userId, display_name: name || placeholderName(userId) })
        .onConflict((oc) =>
          name
            ? oc.column('id').doUpdateSet({ display_name: name, updated_at: new Date() })
            : oc.column('id').doNothing(),
        )
        .execute();
      return name ? refreshCoursesOf(trx, userId) : [];
    },

    /**
     * From `identity.user.profile_updated`: refresh the copy of an instructor the catalog already
     * knows (a learner's profile is none of the catalog's business). Returns the courses touched.
     */
    async applyProfile(
      trx: Db,
      profile: { userId: string; displayName: string; headline: string | null; bio: string | null },
    ): Promise<string[]> {
      const updated = await trx
        .updateTable('catalog.instructors')
        .set({
          display_name: profile.displayName.trim() || placeholderName(profile.userId),
          headline: profile.headline ?? '',
          bio: profile.bio ?? '',
          updated_at: new Date(),
        })
        .where('id', '=', profile.userId)
        .executeTakeFirst();
      return updated.numUpdatedRows > 0n ? refreshCoursesOf(trx, profile.userId) : [];
    },

    async profile(id: string): Promise<InstructorProfile & { courseCount: number }> {
      const page = await cache.listing('instructor', { id }, async () => {
        const row = await findInstructor(read, id);
        if (!row) return undefined;
        const { count } = await read
          .selectFrom('catalog.course_instructors as ci')
          .innerJoin('catalog.courses as c', 'c.id', 'ci.course_id')
          .select((eb) => eb.fn.countAll<number>().as('count'))
          .where('ci.instructor_id', '=', id)
          .where('c.status', '=', 'published')
          .executeTakeFirstOrThrow();
        return { ...toProfile(row), courseCount: count };
      });
      if (!page) throw AppError.notFound('catalog.instructor-not-found', 'No such instructor.');
      return page;
    },
  };
}

function toProfile(row: {
  id: string;
  display_name: string;
  headline: string;
  bio: string;
}): InstructorProfile {
  return { id: row.id, displayName: row.display_name, headline: row.headline, bio: row.bio };
}

export type InstructorsService = ReturnType<typeof createInstructorsService>;
