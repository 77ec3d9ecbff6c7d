import { type Kysely, sql } from 'kysely';
import type { AnalyticsTables } from './tables.js';

type Db = Kysely<AnalyticsTables>;

export interface Candidate {
  course_id: string;
  title: string;
  /** Co-purchase: the course bought that led here; content: the owned course of the same category. */
  because: string | null;
  category: string | null;
  score: number;
}

/** Published courses the user neither owns nor teaches (as SQL, for `where`). */
const open = (userId: string, course: ReturnType<typeof sql.ref>) => sql`
  not exists (select 1 from analytics.owned o where o.user_id = ${userId} and o.course_id = ${course})
  and not exists (select 1 from analytics.course_instructors i where i.instructor_id = ${userId} and i.course_id = ${course})`;

/**
 * Courses bought together with the user's purchases, by Jaccard similarity of their buyer sets
 * (|A ∩ B| / |A ∪ B|, from the incrementally kept counts); each with the purchase most like it.
 */
export async function coPurchased(db: Db, userId: string, limit: number): Promise<Candidate[]> {
  const rows = await sql<Candidate>`
    select * from (
      select distinct on (cp.course_b) cp.course_b as course_id, cb.title, ca.title as because, cat.name as category,
             cp.buyers::float8 / (ba.buyers + bb.buyers - cp.buyers) as score
      from analytics.purchases p
      join analytics.copurchases cp on cp.course_a = p.course_id
      join analytics.course_buyers ba on ba.course_id = cp.course_a
      join analytics.course_buyers bb on bb.course_id = cp.course_b
      join analytics.courses ca on ca.course_id = cp.course_a
      join analytics.courses cb on cb.course_id = cp.course_b and cb.status = 'published'
      left join analytics.categories cat on cat.category_id = cb.category_id
      where p.user_id = ${userId} and ${open(userId, sql.ref('cp.course_b'))}
      order by cp.course_b, score desc, ca.title
    ) x order by score desc, course_id limit ${limit}`.execute(db);
  return rows.rows;
}

/** Courses in the categories of the user's courses, most bought first. */
export async function sameCategory(db: Db, userId: string, limit: number): Promise<Candidate[]> {
  const rows = await sql<Candidate>`
    select * from (
      select distinct on (c.course_id) c.course_id, c.title, mine.title as because, cat.name as category,
             coalesce(b.buyers, 0)::float8 as score
      from analytics.owned o
      join analytics.courses mine on mine.course_id = o.course_id and mine.category_id is not null
      join analytics.courses c on c.category_id = mine.category_id and c.status = 'published'
      left join analytics.categories cat on cat.category_id = c.category_id
      left join analytics.course_buyers b on b.course_id = c.course_id
      where o.user_id = ${userId} and ${open(userId, sql.ref('c.course_id'))}
      order by c.course_id, mine.title
    ) x order by score desc, course_id limit ${limit}`.execute(db);
  return rows.rows;
}

/** The most bought published courses the user does not have (everyone's, without a user). */
export async function popular(db: Db, userId: string | undefined, limit: number): Promise<Candidate[]> {
  const rows = await sql<Candidate>`
    select c.course_id, c.title, null as because, cat.name as category, coalesce(b.buyers, 0)::float8 as score
    from analytics.courses c
    left join analytics.course_buyers b on b.course_id = c.course_id
    left join analytics.categories cat on cat.category_id = c.category_id
    where c.status = 'published' ${userId ? sql`and ${open(userId, sql.ref('c.course_id'))}` : sql``}
    order by score desc, c.course_id limit ${limit}`.execute(db);
  return rows.rows;
}

/** Learners who bought this course also bought…, by Jaccard similarity. */
export async function alsoBought(db: Db, courseId: string, limit: number): Promise<Candidate[]> {
  const rows = await sql<Candidate>`
    select cp.course_b as course_id, cb.title, null as because, cat.name as category,
           cp.buyers::float8 / (ba.buyers + bb.buyers - cp.buyers) as score
    from analytics.copurchases cp
    join analytics.course_buyers ba on ba.course_id = cp.course_a
    join analytics.course_buyers bb on bb.course_id = cp.course_b
    join analytics.courses cb on cb.course_id = cp.course_b and cb.status = 'published'
    left join analytics.categories cat on cat.category_id = cb.category_id
    where cp.course_a = ${courseId}
    order by score desc, cp.course_b limit ${limit}`.execute(db);
  return rows.rows;
}

export async function courseKnown(db: Db, courseId: string): Promise<boolean> {
  const row = await db
    .selectFrom('analytics.courses')
    .select('course_id')
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return row !== undefined;
}
