import { type Insertable, type Kysely, sql } from 'kysely';
import type { CatalogTables, CourseTable } from '../tables.js';
import { DEMO_CATEGORIES, type DemoInstructor } from './demo.data.js';

type Db = Kysely<CatalogTables>;

// SQL of the benchmark's fast path (bulk.ts), which writes rows without the services.

/** Categories and instructor profiles the bulk courses hang off; idempotent. */
export async function ensureBulkBase(db: Db, instructors: DemoInstructor[]): Promise<Map<string, string>> {
  for (const [position, c] of DEMO_CATEGORIES.entries()) {
    const parent = c.parent
      ? await db.selectFrom('catalog.categories').select('id').where('slug', '=', c.parent).executeTakeFirst()
      : undefined;
    await db
      .insertInto('catalog.categories')
      .values({ slug: c.slug, name: c.name, parent_id: parent?.id ?? null, position })
      .onConflict((oc) => oc.column('slug').doNothing())
      .execute();
  }
  for (const i of instructors) {
    await db
      .insertInto('catalog.instructors')
      .values({ id: i.id, display_name: i.displayName, headline: i.headline ?? '' })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  const rows = await db.selectFrom('catalog.categories').select(['id', 'slug']).execute();
  return new Map(rows.map((r) => [r.slug, r.id]));
}

/** One batch of published courses, each with its instructor, tag, a chapter and two article lessons. */
export async function insertBulkBatch(
  trx: Db,
  rows: {
    course: Omit<Insertable<CourseTable>, 'search_vector'> & { id: string; owner_id: string };
    searchVector: string;
    tagId: string | undefined;
  }[],
): Promise<void> {
  await trx
    .insertInto('catalog.courses')
    .values(rows.map((r) => ({ ...r.course, search_vector: sql<string>`${r.searchVector}::tsvector` })))
    .execute();
  await trx
    .insertInto('catalog.course_instructors')
    .values(rows.map((r) => ({ course_id: r.course.id, instructor_id: r.course.owner_id, position: 0 })))
    .execute();
  const tagged = rows.flatMap((r) => (r.tagId ? [{ course_id: r.course.id, tag_id: r.tagId }] : []));
  if (tagged.length > 0) await trx.insertInto('catalog.course_tags').values(tagged).execute();
  const ids = rows.map((r) => r.course.id);
  await sql`
      with ch as (
        insert into catalog.chapters (course_id, title, position)
        select id, 'Chapter 1', 0 from unnest(${ids}::uuid[]) as id
        returning id, course_id
      )
      insert into catalog.lessons (course_id, chapter_id, title, kind, position, duration_seconds, free_preview, body)
      select ch.course_id, ch.id, l.title, 'article', l.position, 600, l.position = 0, l.body
      from ch cross join (values ('Introduction', 0, 'Welcome.'), ('Deep dive', 1, 'The details.')) as l(title, position, body)`.execute(
    trx,
  );
}
