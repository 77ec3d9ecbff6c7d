import type { Insertable, Kysely } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { AssetTable, CatalogTables } from './tables.js';

type Db = Kysely<CatalogTables>;

export function findAsset(db: Db, id: string) {
  return db.selectFrom('catalog.assets').selectAll().where('id', '=', id).executeTakeFirst();
}

export function insertAsset(db: Db, values: Insertable<AssetTable>) {
  return db.insertInto('catalog.assets').values(values).returningAll().executeTakeFirstOrThrow();
}

export function listAssetsOfCourse(
  db: Db,
  courseId: string,
  page: { limit: number; cursor?: string | undefined },
) {
  return keyset(db.selectFrom('catalog.assets').selectAll().where('course_id', '=', courseId), {
    columns: ['created_at', 'id'],
    direction: 'desc',
    ...page,
  }).execute();
}

/** Whether a lesson or a course cover still points at the file. */
export async function isAssetInUse(db: Db, assetId: string): Promise<boolean> {
  const lesson = await db
    .selectFrom('catalog.lessons')
    .select('id')
    .where('asset_id', '=', assetId)
    .executeTakeFirst();
  if (lesson) return true;
  const cover = await db
    .selectFrom('catalog.courses')
    .select('id')
    .where('cover_asset_id', '=', assetId)
    .executeTakeFirst();
  return cover !== undefined;
}

export async function deleteAsset(db: Db, assetId: string): Promise<void> {
  await db.deleteFrom('catalog.assets').where('id', '=', assetId).execute();
}
