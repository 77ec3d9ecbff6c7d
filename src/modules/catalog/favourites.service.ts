import type { Kysely } from 'kysely';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { keyset, type Page, toPage } from '../../platform/http/pagination.js';
import { checkCursor } from './catalog.cursor.js';
import type { Actor } from './course.access.js';
import { courseNotFound } from './course.access.js';
import { type CourseSummaryView, summaries, type Urls } from './course.views.js';
import type { CatalogCache } from './catalog.cache.js';
import { findCourse, findCoursesByIds } from './courses.queries.js';
import type { CatalogTables } from './tables.js';

type Db = Kysely<CatalogTables>;

export interface FavouriteView {
  savedAt: string;
  course: CourseSummaryView;
}

/**
 * A learner's wishlist. The course keeps a count of how many saved it, changed in the same
 * transaction as the row, so the count never drifts from the rows.
 */
export function createFavouritesService(deps: { db: Db; cache: CatalogCache; urls: Urls }) {
  const { db, cache, urls } = deps;

  return {
    async add(actor: Actor, courseId: string): Promise<void> {
      const added = await inTransaction(db, async (trx) => {
        const course = await findCourse(trx, courseId);
        if (!course || course.status === 'draft' || course.status === 'in_review') throw courseNotFound();
        if (course.status !== 'published') {
          throw AppError.conflict(
            'catalog.course-not-on-sale',
            'An archived course cannot be added to a wishlist.',
          );
        }
        const inserted = await trx
          .insertInto('catalog.favourites')
          .values({ user_id: actor.userId, course_id: courseId })
          .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing())
          .returning('course_id')
          .executeTakeFirst();
        if (!inserted) return false;
        await trx
          .updateTable('catalog.courses')
          .set((eb) => ({ favourite_count: eb('favourite_count', '+', 1) }))
          .where('id', '=', courseId)
          .execute();
        return true;
      });
      if (added) await cache.invalidateCourse(courseId);
    },

    async remove(actor: Actor, courseId: string): Promise<void> {
      const removed = await inTransaction(db, async (trx) => {
        const deleted = await trx
          .deleteFrom('catalog.favourites')
          .where('user_id', '=', actor.userId)
          .where('course_id', '=', courseId)
          .returning('course_id')
          .executeTakeFirst();
        if (!deleted) return false;
        await trx
          .updateTable('catalog.courses')
          .set((eb) => ({ favourite_count: eb('favourite_count', '-', 1) }))
          .where('id', '=', courseId)
          .execute();
        return true;
      });
      if (removed) await cache.invalidateCourse(courseId);
    },

    async list(
      actor: Actor,
      page: { limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<FavouriteView>> {
      const limit = page.limit ?? 20;
      checkCursor(page.cursor, 'date');
      // the wishlist is the user's own and changes under their hand: read the primary
      const rows = await keyset(
        db
          .selectFrom('catalog.favourites')
          .select(['course_id', 'created_at'])
          .where('user_id', '=', actor.userId),
        { columns: ['created_at', 'course_id'], direction: 'desc', limit, cursor: page.cursor },
      ).execute();
      const kept = toPage(
        rows,
        limit,
        (r) => [r.created_at.toISOString(), r.course_id],
        (r) => r,
      );
      const courses = await findCoursesByIds(
        db,
        kept.data.map((r) => r.course_id),
      );
      const views = new Map((await summaries(db, urls, courses)).map((v) => [v.id, v]));
      return {
        nextCursor: kept.nextCursor,
        data: kept.data.flatMap((r) => {
          const course = views.get(r.course_id);
          return course ? [{ savedAt: r.created_at.toISOString(), course }] : [];
        }),
      };
    },
  };
}

export type FavouritesService = ReturnType<typeof createFavouritesService>;
