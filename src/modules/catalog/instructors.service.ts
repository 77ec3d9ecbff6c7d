import type { Kysely } from 'kysely';
import type { Static } from 'typebox';
import type { CatalogCache } from './catalog.cache.js';
import { NotFound } from './catalog.errors.js';
import { refreshSearchDocument } from './courses.queries.js';
import {
  coursesOfInstructor,
  findInstructor,
  publishedCourseCount,
  updateInstructorProfile,
  upsertInstructorName,
} from './instructors.queries.js';
import type { InstructorPage, InstructorProfile } from './instructors.schemas.js';
import type { CatalogTables } from './tables.js';
import { trimText } from '../../platform/text.js';

/**
 * Where a new instructor's display name comes from the first time they create a course: the
 * identity module's user lookup when it is wired in (registry.ts), else a placeholder until
 * identity's `identity.user.profile_updated` brings the real one.
 */
export interface InstructorDirectory {
  displayNameOf(userId: string): Promise<string | undefined>;
}

type Db = Kysely<CatalogTables>;
type InstructorProfileView = Static<typeof InstructorProfile>;
type InstructorSummaryView = Omit<Static<typeof InstructorPage>, 'courses'>;

const placeholderName = (userId: string) => `Instructor ${userId.slice(0, 8)}`;

/**
 * The catalog's read copy of instructors. Identity owns the name, headline and bio; this copy
 * only follows its events, so the catalog has no route that writes them.
 */
export function createInstructorsService(
  db: Db,
  read: Db,
  cache: CatalogCache,
  directory?: InstructorDirectory,
) {
  async function refreshCoursesOf(trx: Db, instructorId: string): Promise<string[]> {
    const courseIds = await coursesOfInstructor(trx, instructorId);
    for (const courseId of courseIds) await refreshSearchDocument(trx, courseId);
    return courseIds;
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
      await upsertInstructorName(
        db,
        { id: userId, displayName: trimText(name ?? '') || placeholderName(userId) },
        false,
      );
    },

    /** Demo data: a profile that exists before any course of its own (no identity account behind it). */
    async ensureProfile(profile: { id: string; displayName: string; headline?: string }): Promise<void> {
      await upsertInstructorName(db, profile, false);
    },

    /** From `identity.instructor.approved`: keep the catalog's copy of the name current. */
    async applyApproved(trx: Db, userId: string, displayName: string | undefined): Promise<string[]> {
      const name = trimText(displayName ?? '');
      await upsertInstructorName(trx, { id: userId, displayName: name || placeholderName(userId) }, !!name);
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
      const known = await updateInstructorProfile(trx, profile.userId, {
        displayName: trimText(profile.displayName) || placeholderName(profile.userId),
        headline: profile.headline ?? '',
        bio: profile.bio ?? '',
      });
      return known ? refreshCoursesOf(trx, profile.userId) : [];
    },

    async profile(id: string): Promise<InstructorSummaryView> {
      const page = await cache.listing('instructor', { id }, async () => {
        const row = await findInstructor(read, id);
        if (!row) return undefined;
        return { ...toProfile(row), courseCount: await publishedCourseCount(read, id) };
      });
      if (!page) throw NotFound.instructor();
      return page;
    },
  };
}

function toProfile(row: {
  id: string;
  display_name: string;
  headline: string;
  bio: string;
}): InstructorProfileView {
  return { id: row.id, displayName: row.display_name, headline: row.headline, bio: row.bio };
}

export type InstructorsService = ReturnType<typeof createInstructorsService>;
