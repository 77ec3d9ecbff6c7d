import type { Kysely } from 'kysely';
import type { Static } from 'typebox';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import { checkCursor } from './catalog.cursor.js';
import type { Actor } from './course.access.js';
import { courseNotFound } from './course.access.js';
import { summaries, type Urls } from './course.views.js';
import type { CatalogCache } from './catalog.cache.js';
import type { Favourite } from './favourites.schemas.js';
import { addFavourite, listFavourites, removeFavourite } from './favourites.queries.js';
import { findCourse, findCoursesByIds } from './courses.queries.js';
import type { CatalogTables } from './tables.js';
import { CatalogErrors } from './catalog.errors.js';

type Db = Kysely<CatalogTables>;

export type FavouriteView = Static<typeof Favourite>;

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
            CatalogErrors.courseNotOnSale,
            'An archived course cannot be added to a wishlist.',
          );
        }
        return addFavourite(trx, actor.userId, courseId);
      });
      if (added) await cache.invalidateCourse(courseId);
    },

    async remove(actor: Actor, courseId: string): Promise<void> {
      const removed = await inTransaction(db, (trx) => removeFavourite(trx, actor.userId, courseId));
      if (removed) await cache.invalidateCourse(courseId);
    },

    async list(
      actor: Actor,
      page: { limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<FavouriteView>> {
      const limit = page.limit ?? 20;
      checkCursor(page.cursor, 'date');
      // the wishlist is the user's own and changes under their hand: read the primary
      const rows = await listFavourites(db, actor.userId, { limit, cursor: page.cursor });
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
