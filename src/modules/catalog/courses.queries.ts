import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import { type CursorPart, keyset } from '../../platform/http/pagination.js';
import { buildTsvector, lexiconWords, markdownToText } from './search.js';
import type { CatalogTables, CourseLevel, CourseStatus, CourseTable } from './tables.js';

type Db = Kysely<CatalogTables>;

export type CourseRow = Omit<Selectable<CourseTable>, 'search_vector'>;

/** Every course column but the search vector, which is large and never leaves the database. */
export const COURSE_COLUMNS = [
  'c.id',
  'c.owner_id',
  'c.title',
  'c.subtitle',
  'c.description',
  'c.category_id',
  'c.cover_asset_id',
  'c.price_amount',
  'c.currency',
  'c.level',
  'c.language',
  'c.status',
  'c.review_note',
  'c.submitted_at',
  'c.published_at',
  'c.archived_at',
  'c.lesson_count',
  'c.duration_seconds',
  'c.popularity',
  'c.rating_x100',
  'c.rating_count',
  'c.favourite_count',
  'c.created_at',
  'c.updated_at',
] as const;

export async function findCourse(
  db: Db,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<CourseRow | undefined> {
  const [row] = await (options.forUpdate ? lockCourse : readCourse)(db, { id });
  return row;
}

const readCourse = preparedStatement('catalog.courses.find', (db: Db, { id }: { id: string }) =>
  db.selectFrom('catalog.courses as c').select(COURSE_COLUMNS).where('c.id', '=', id),
);
const lockCourse = preparedStatement('catalog.courses.lock', (db: Db, { id }: { id: string }) =>
  db.selectFrom('catalog.courses as c').select(COURSE_COLUMNS).where('c.id', '=', id).forUpdate(),
);

/**
 * What an order needs of a course, with its instructors' ids in their order: one statement, as
 * it runs once per course of every order.
 */
export async function findCourseForSale(db: Db, id: string) {
  const [row] = await readCourseForSale(db, { id });
  return row;
}

const readCourseForSale = preparedStatement('catalog.courses.for-sale', (db: Db, { id }: { id: string }) =>
  db
    .selectFrom('catalog.courses as c')
    .select(['c.id', 'c.title', 'c.owner_id', 'c.category_id', 'c.price_amount', 'c.currency', 'c.status'])
    .select(
      sql<string[]>`array(select ci.instructor_id from catalog.course_instructors ci
        where ci.course_id = c.id order by ci.position)`.as('instructor_ids'),
    )
    .where('c.id', '=', id),
);

/** Published courses of these owners, newest first: the demo catalog's, for other modules' demo data. */
export async function publishedCourseIdsOf(
  db: Db,
  ownerIds: readonly string[],
  limit: number,
): Promise<string[]> {
  if (ownerIds.length === 0) return [];
  const rows = await db
    .selectFrom('catalog.courses')
    .select('id')
    .where('status', '=', 'published')
    .where('owner_id', 'in', ownerIds)
    .orderBy('published_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export function findCoursesByIds(db: Db, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('catalog.courses as c').select(COURSE_COLUMNS).where('c.id', 'in', ids).execute();
}

export function instructorsOfCourses(db: Db, courseIds: string[]) {
  if (courseIds.length === 0) return Promise.resolve([]);
  return instructorsOf(db, { courseIds });
}

const instructorsOf = preparedStatement(
  'catalog.courses.instructors',
  (db: Db, { courseIds }: { courseIds: string[] }) =>
    db
      .selectFrom('catalog.course_instructors as ci')
      .innerJoin('catalog.instructors as i', 'i.id', 'ci.instructor_id')
      .select(['ci.course_id', 'i.id', 'i.display_name'])
      .where(sql<boolean>`ci.course_id = any(${courseIds}::uuid[])`)
      .orderBy('ci.position'),
);

export function tagsOfCourses(db: Db, courseIds: string[]) {
  if (courseIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('catalog.course_tags as ct')
    .innerJoin('catalog.tags as t', 't.id', 'ct.tag_id')
    .select(['ct.course_id', 't.name'])
    .where('ct.course_id', 'in', courseIds)
    .orderBy('t.name')
    .execute();
}

/** A course's category (with its name and slug) and tag names, as its events carry them. */
export async function courseFacts(
  db: Db,
  course: { id: string; category_id: string | null },
): Promise<{ category: { id: string; slug: string; name: string } | null; tags: string[] }> {
  const [tags, categories] = await Promise.all([
    tagsOfCourses(db, [course.id]),
    course.category_id ? categoriesByIds(db, [course.category_id]) : Promise.resolve([]),
  ]);
  return { category: categories[0] ?? null, tags: tags.map((t) => t.name) };
}

export function categoriesByIds(db: Db, ids: string[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return db.selectFrom('catalog.categories').select(['id', 'slug', 'name']).where('id', 'in', ids).execute();
}

/** A category and all categories below it. */
export async function categoryWithDescendants(db: Db, slug: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    with recursive tree as (
      select id from catalog.categories where slug = ${slug}
      union all
      select c.id from catalog.categories c join tree on c.parent_id = tree.id
    )
    select id from tree`.execute(db);
  return rows.map((r) => r.id);
}

export function chaptersOfCourse(db: Db, courseId: string) {
  return db
    .selectFrom('catalog.chapters')
    .select(['id', 'title', 'position'])
    .where('course_id', '=', courseId)
    .orderBy('position')
    .orderBy('created_at')
    .execute();
}

export function lessonsOfCourse(db: Db, courseId: string) {
  return db
    .selectFrom('catalog.lessons as l')
    .leftJoin('catalog.assets as a', 'a.id', 'l.asset_id')
    .select([
      'l.id',
      'l.chapter_id',
      'l.title',
      'l.kind',
      'l.position',
      'l.duration_seconds',
      'l.free_preview',
      'l.asset_id',
      sql<boolean>`l.body is not null and l.body <> ''`.as('has_body'),
      'a.kind as asset_kind',
      'a.content_type as asset_content_type',
      'a.size_bytes as asset_size_bytes',
      'a.page_count as asset_page_count',
      'a.duration_seconds as asset_duration_seconds',
    ])
    .where('l.course_id', '=', courseId)
    .orderBy('l.position')
    .orderBy('l.created_at')
    .execute();
}

export type SortKey = 'newest' | 'popular' | 'rating' | 'price_asc' | 'price_desc';

/** Keyset columns of each sort; the first is the cursor's sort value. */
export const SORTS: Record<SortKey, { column: string; direction: 'asc' | 'desc'; kind: CursorPart }> = {
  newest: { column: 'c.published_at', direction: 'desc', kind: 'date-time' },
  popular: { column: 'c.popularity', direction: 'desc', kind: 'int32' },
  rating: { column: 'c.rating_x100', direction: 'desc', kind: 'int32' },
  price_asc: { column: 'c.price_amount', direction: 'asc', kind: 'int32' },
  price_desc: { column: 'c.price_amount', direction: 'desc', kind: 'int32' },
};

export interface CourseFilters {
  /** Already expanded to the sub-categories. */
  categoryIds?: string[] | undefined;
  tag?: string | undefined;
  free?: boolean | undefined;
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  currency?: string | undefined;
  level?: CourseLevel | undefined;
  language?: string | undefined;
  instructorId?: string | undefined;
}

function publishedWith(db: Db, f: CourseFilters) {
  let q = db.selectFrom('catalog.courses as c').where('c.status', '=', 'published');
  if (f.categoryIds) {
    q =
      f.categoryIds.length > 0 ? q.where('c.category_id', 'in', f.categoryIds) : q.where(sql<boolean>`false`);
  }
  if (f.free === true) q = q.where('c.price_amount', '=', 0);
  if (f.free === false) q = q.where('c.price_amount', '>', 0);
  if (f.minPrice !== undefined) q = q.where('c.price_amount', '>=', f.minPrice);
  if (f.maxPrice !== undefined) q = q.where('c.price_amount', '<=', f.maxPrice);
  if (f.currency) q = q.where('c.currency', '=', f.currency);
  if (f.level) q = q.where('c.level', '=', f.level);
  if (f.language) {
    // "zh" finds zh, zh-CN and zh-TW; "zh-CN" finds only itself
    const lang = f.language.toLowerCase();
    q = q.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['c.language']), '=', lang),
        eb(eb.fn('lower', ['c.language']), 'like', `${lang}-%`),
      ]),
    );
  }
  if (f.tag) {
    const tag = f.tag;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('catalog.course_tags as ct')
          .innerJoin('catalog.tags as t', 't.id', 'ct.tag_id')
          .select(sql.lit(1).as('one'))
          .whereRef('ct.course_id', '=', 'c.id')
          .where('t.name', '=', tag),
      ),
    );
  }
  if (f.instructorId) {
    const instructorId = f.instructorId;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('catalog.course_instructors as ci')
          .select(sql.lit(1).as('one'))
          .whereRef('ci.course_id', '=', 'c.id')
          .where('ci.instructor_id', '=', instructorId),
      ),
    );
  }
  return q;
}

export function listPublished(
  db: Db,
  filters: CourseFilters,
  sort: SortKey,
  page: { limit: number; cursor?: string | undefined },
) {
  const { column, direction, kind } = SORTS[sort];
  return keyset(publishedWith(db, filters).select(COURSE_COLUMNS), {
    columns: [column, 'c.id'],
    shape: [kind, 'uuid'],
    direction,
    ...page,
  }).execute();
}

/** Published courses matching a tsquery literal, best first (or in `sort` order when given). */
export function searchPublished(
  db: Db,
  tsquery: string,
  filters: CourseFilters,
  sort: SortKey | undefined,
  page: { limit: number; cursor?: string | undefined },
) {
  const query = sql`${tsquery}::tsquery`;
  const base = publishedWith(db, filters).where(sql<boolean>`c.search_vector @@ ${query}`);
  if (sort) {
    const { column, direction, kind } = SORTS[sort];
    return keyset(base.select(COURSE_COLUMNS), {
      columns: [column, 'c.id'],
      shape: [kind, 'uuid'],
      direction,
      ...page,
    }).execute();
  }
  const ranked = base
    .select(COURSE_COLUMNS)
    // weights D, C, B, A; normalisation 1 damps long descriptions so a title hit wins
    .select(sql<number>`ts_rank('{0.05, 0.2, 0.5, 1.0}', c.search_vector, ${query}, 1)::float8`.as('score'));
  return keyset(db.selectFrom(ranked.as('c')).selectAll(), {
    columns: ['c.score', 'c.id'],
    shape: ['number', 'uuid'],
    direction: 'desc',
    ...page,
  }).execute();
}

export interface SearchSource {
  title: string;
  subtitle: string;
  description: string;
  tags: string[];
  instructorNames: string[];
  categoryName: string | null;
}

export function searchDocument(src: SearchSource): { vector: string; words: string[] } {
  const fields = [
    { text: src.title, weight: 'A' as const },
    { text: src.subtitle, weight: 'B' as const },
    { text: src.tags.join(' '), weight: 'B' as const },
    { text: src.instructorNames.join(' '), weight: 'B' as const },
    { text: markdownToText(src.description).slice(0, 20_000), weight: 'C' as const },
    { text: src.categoryName ?? '', weight: 'D' as const },
  ];
  const words = new Set(fields.flatMap((f) => lexiconWords(f.text)));
  return { vector: buildTsvector(fields), words: [...words] };
}

export async function addSearchWords(db: Db, words: string[]): Promise<void> {
  // sorted, so concurrent writers take the unique-index locks in one order
  const unique = [...new Set(words)].sort();
  for (let i = 0; i < unique.length; i += 1000) {
    await db
      .insertInto('catalog.search_words')
      .values(unique.slice(i, i + 1000).map((word) => ({ word })))
      .onConflict((oc) => oc.column('word').doNothing())
      .execute();
  }
}

/** Rebuild a course's search document from its current title, tags, instructors and category. */
export async function refreshSearchDocument(db: Db, courseId: string): Promise<void> {
  const course = await db
    .selectFrom('catalog.courses as c')
    .leftJoin('catalog.categories as cat', 'cat.id', 'c.category_id')
    .select(['c.title', 'c.subtitle', 'c.description', 'cat.name as category_name'])
    .where('c.id', '=', courseId)
    .executeTakeFirst();
  if (!course) return;
  const [tags, instructors] = await Promise.all([
    tagsOfCourses(db, [courseId]),
    instructorsOfCourses(db, [courseId]),
  ]);
  const { vector, words } = searchDocument({
    title: course.title,
    subtitle: course.subtitle,
    description: course.description,
    tags: tags.map((t) => t.name),
    instructorNames: instructors.map((i) => i.display_name),
    categoryName: course.category_name,
  });
  await db
    .updateTable('catalog.courses')
    .set({ search_vector: sql<string>`${vector}::tsvector` })
    .where('id', '=', courseId)
    .execute();
  await addSearchWords(db, words);
}

/** Lesson count and total duration, kept on the course so lists need no aggregate. */
export async function refreshCourseStats(db: Db, courseId: string): Promise<void> {
  await db
    .updateTable('catalog.courses')
    .set((eb) => ({
      lesson_count: eb
        .selectFrom('catalog.lessons')
        .select((e) => e.fn.countAll<number>().as('n'))
        .where('course_id', '=', courseId),
      duration_seconds: eb
        .selectFrom('catalog.lessons')
        .select(sql<number>`coalesce(sum(duration_seconds), 0)::int`.as('d'))
        .where('course_id', '=', courseId),
    }))
    .where('id', '=', courseId)
    .execute();
}

/** Existing tag ids by name, creating the missing tags. */
export async function ensureTags(db: Db, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  await db
    .insertInto('catalog.tags')
    .values([...names].sort().map((name) => ({ name })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const rows = await db
    .selectFrom('catalog.tags')
    .select(['id', 'name'])
    .where('name', 'in', names)
    .execute();
  return rows.map((r) => r.id);
}

export async function replaceCourseTags(db: Db, courseId: string, names: string[]): Promise<void> {
  const ids = await ensureTags(db, names);
  await db.deleteFrom('catalog.course_tags').where('course_id', '=', courseId).execute();
  if (ids.length > 0) {
    await db
      .insertInto('catalog.course_tags')
      .values(ids.map((tag_id) => ({ course_id: courseId, tag_id })))
      .execute();
  }
}

export async function replaceCourseInstructors(
  db: Db,
  courseId: string,
  instructorIds: string[],
): Promise<void> {
  await db.deleteFrom('catalog.course_instructors').where('course_id', '=', courseId).execute();
  await db
    .insertInto('catalog.course_instructors')
    .values(
      instructorIds.map((instructor_id, position) => ({ course_id: courseId, instructor_id, position })),
    )
    .execute();
}

export function listTags(db: Db, limit: number) {
  return db
    .selectFrom('catalog.tags as t')
    .innerJoin('catalog.course_tags as ct', 'ct.tag_id', 't.id')
    .innerJoin('catalog.courses as c', 'c.id', 'ct.course_id')
    .select(['t.name', (eb) => eb.fn.countAll<number>().as('course_count')])
    .where('c.status', '=', 'published')
    .groupBy('t.name')
    .orderBy('course_count', 'desc')
    .orderBy('t.name')
    .limit(limit)
    .execute();
}

export function insertCourse(db: Db, values: Insertable<CourseTable>) {
  return db.insertInto('catalog.courses').values(values).returning('id').executeTakeFirstOrThrow();
}

export async function updateCourse(db: Db, id: string, set: Updateable<CourseTable>): Promise<void> {
  await db.updateTable('catalog.courses').set(set).where('id', '=', id).execute();
}

/** Deletes a course and its lessons; the storage keys of its files are returned for cleanup. */
export async function deleteCourse(db: Db, courseId: string): Promise<string[]> {
  const assets = await db
    .selectFrom('catalog.assets')
    .select('storage_key')
    .where('course_id', '=', courseId)
    .execute();
  // lessons first: they hold the assets, which the course delete cascades to
  await db.deleteFrom('catalog.lessons').where('course_id', '=', courseId).execute();
  await db.deleteFrom('catalog.courses').where('id', '=', courseId).execute();
  return assets.map((a) => a.storage_key);
}

export async function categoryExists(db: Db, id: string): Promise<boolean> {
  const found = await db
    .selectFrom('catalog.categories')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst();
  return found !== undefined;
}

/** Which of these ids have a catalog instructor profile. */
export async function knownInstructorIds(db: Db, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('catalog.instructors').select('id').where('id', 'in', ids).execute();
  return rows.map((r) => r.id);
}

/** What a completeness check needs of each lesson of a course. */
export function lessonContentOfCourse(db: Db, courseId: string) {
  return db
    .selectFrom('catalog.lessons')
    .select(['id', 'title', 'kind', 'asset_id', 'body'])
    .where('course_id', '=', courseId)
    .execute();
}

export async function isFavourite(db: Db, userId: string, courseId: string): Promise<boolean> {
  const saved = await db
    .selectFrom('catalog.favourites')
    .select('course_id')
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return saved !== undefined;
}

/** An owner's courses in every status (or one), newest first. */
export function listOwnedCourses(
  db: Db,
  ownerId: string,
  status: CourseStatus | undefined,
  page: { limit: number; cursor?: string | undefined },
) {
  let q = db.selectFrom('catalog.courses as c').select(COURSE_COLUMNS).where('c.owner_id', '=', ownerId);
  if (status) q = q.where('c.status', '=', status);
  return keyset(q, {
    columns: ['c.created_at', 'c.id'],
    shape: ['date-time', 'uuid'],
    direction: 'desc',
    ...page,
  }).execute();
}

/** Courses in review, oldest submission first. */
export function listInReview(db: Db, page: { limit: number; cursor?: string | undefined }) {
  return keyset(
    db.selectFrom('catalog.courses as c').select(COURSE_COLUMNS).where('c.status', '=', 'in_review'),
    { columns: ['c.submitted_at', 'c.id'], shape: ['date-time', 'uuid'], direction: 'asc', ...page },
  ).execute();
}

/** Whether the catalog holds any course at all, in any status. */
export async function hasAnyCourse(db: Db): Promise<boolean> {
  return (await db.selectFrom('catalog.courses').select('id').limit(1).executeTakeFirst()) !== undefined;
}
