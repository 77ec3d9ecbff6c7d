import { type Kysely, sql, type Updateable } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { CatalogTables, CategoryTable } from './tables.js';

type Db = Kysely<CatalogTables>;

export function listCategories(db: Db, page: { limit: number; cursor?: string | undefined }) {
  return keyset(db.selectFrom('catalog.categories').selectAll(), {
    columns: ['created_at', 'id'],
    direction: 'asc',
    ...page,
  }).execute();
}

export function findCategoryBySlug(db: Db, slug: string) {
  return db.selectFrom('catalog.categories').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export function findCategoryById(db: Db, id: string, options: { forUpdate?: boolean } = {}) {
  const q = db.selectFrom('catalog.categories').selectAll().where('id', '=', id);
  return (options.forUpdate ? q.forUpdate() : q).executeTakeFirst();
}

export function insertCategory(
  db: Db,
  values: { slug: string; name: string; parent_id: string | null; position?: number },
) {
  return db.insertInto('catalog.categories').values(values).returningAll().executeTakeFirstOrThrow();
}

export function updateCategory(db: Db, id: string, set: Updateable<CategoryTable>) {
  return db
    .updateTable('catalog.categories')
    .set(set)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** True when `candidate` is `id` itself or lies below it: moving `id` under it would make a cycle. */
export async function isSelfOrDescendant(db: Db, id: string, candidate: string): Promise<boolean> {
  const { rows } = await sql<{ found: boolean }>`
    with recursive tree as (
      select id from catalog.categories where id = ${id}
      union all
      select c.id from catalog.categories c join tree on c.parent_id = tree.id
    )
    select exists (select 1 from tree where id = ${candidate}) as found`.execute(db);
  return rows[0]?.found ?? false;
}

/** Every category with its published-course count (own, not including sub-categories). */
export function categoriesWithCounts(db: Db) {
  return db
    .selectFrom('catalog.categories as cat')
    .leftJoin('catalog.courses as c', (join) =>
      join.onRef('c.category_id', '=', 'cat.id').on('c.status', '=', 'published'),
    )
    .select([
      'cat.id',
      'cat.slug',
      'cat.name',
      'cat.parent_id',
      'cat.position',
      (eb) => eb.fn.count<number>('c.id').as('course_count'),
    ])
    .groupBy(['cat.id', 'cat.slug', 'cat.name', 'cat.parent_id', 'cat.position'])
    .execute();
}

export async function coursesInCategory(db: Db, id: string): Promise<string[]> {
  const rows = await db.selectFrom('catalog.courses').select('id').where('category_id', '=', id).execute();
  return rows.map((c) => c.id);
}

/** Whether a sub-category or a course still hangs off the category. */
export async function isCategoryInUse(db: Db, id: string): Promise<boolean> {
  const child = await db
    .selectFrom('catalog.categories')
    .select('id')
    .where('parent_id', '=', id)
    .executeTakeFirst();
  if (child) return true;
  const course = await db
    .selectFrom('catalog.courses')
    .select('id')
    .where('category_id', '=', id)
    .executeTakeFirst();
  return course !== undefined;
}

export async function deleteCategory(db: Db, id: string): Promise<void> {
  await db.deleteFrom('catalog.categories').where('id', '=', id).execute();
}
