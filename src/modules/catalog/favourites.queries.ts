import type { Kysely } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { CatalogTables } from './tables.js';

type Db = Kysely<CatalogTables>;

/** Saves the course for the user and counts it; false when it was saved already. */
export async function addFavourite(db: Db, userId: string, courseId: string): Promise<boolean> {
  const inserted = await db
    .insertInto('catalog.favourites')
    .values({ user_id: userId, course_id: courseId })
    .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing())
    .returning('course_id')
    .executeTakeFirst();
  if (!inserted) return false;
  await db
    .updateTable('catalog.courses')
    .set((eb) => ({ favourite_count: eb('favourite_count', '+', 1) }))
    .where('id', '=', courseId)
    .execute();
  return true;
}

/** Forgets the saved course and uncounts it; false when it was not saved. */
export async function removeFavourite(db: Db, userId: string, courseId: string): Promise<boolean> {
  const deleted = await db
    .deleteFrom('catalog.favourites')
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .returning('course_id')
    .executeTakeFirst();
  if (!deleted) return false;
  await db
    .updateTable('catalog.courses')
    .set((eb) => ({ favourite_count: eb('favourite_count', '-', 1) }))
    .where('id', '=', courseId)
    .execute();
  return true;
}

export function listFavourites(db: Db, userId: string, page: { limit: number; cursor?: string | undefined }) {
  return keyset(
    db.selectFrom('catalog.favourites').select(['course_id', 'created_at']).where('user_id', '=', userId),
    { columns: ['created_at', 'course_id'], direction: 'desc', ...page },
  ).execute();
}
