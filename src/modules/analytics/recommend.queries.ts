import { type Kysely, sql } from 'kysely';
import type { AnalyticsTables } from './tables.js';

type Db = Kysely<AnalyticsTables>;

export interface Candidate {
  course_id: string;
  title: string;
  /** Co-purchase: the course bought that led here; content: the owned course most like it. */
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

/** A content neighbour: a candidate with what it shares with the owned course most like it. */
export interface Neighbour extends Candidate {
  /** Tags it shares with `because`, sorted (empty: none). */
  shared_tags: string[];
  /** Whether it is in the category of `because`. */
  same_category: boolean;
}

/**
 * Published courses like the user's courses by content. Each course is the set of its tags plus
 * its category; a candidate's score is the Jaccard similarity |A ∩ B| / |A ∪ B| of that set with
 * the owned course most like it, so a course of the same category sharing tags comes first, then
 * one sharing only the category or only tags, whichever overlaps more. Ties: most bought first.
 * Only courses sharing a tag or the category with one of the user's are candidates, found from
 * the user's tags and categories through their indexes, never by scanning every course.
 */
/** The size of a course's feature set: its tags and, when it has one, its category. */
const size = (alias: string) =>
  sql`(${sql.ref(`${alias}.tag_count`)} + (${sql.ref(`${alias}.category_id`)} is not null)::int)`;

export async function contentNeighbours(db: Db, userId: string, limit: number): Promise<Neighbour[]> {
  const rows = await sql<Neighbour>`
    with mine as (select course_id from analytics.owned where user_id = ${userId}),
    features(course_id, tag, category_id) as (
      select t.course_id, t.tag, null::uuid from analytics.course_tags t join mine using (course_id)
      union all
      select c.course_id, null, c.category_id
      from analytics.courses c join mine using (course_id) where c.category_id is not null
    ),
    shared(mine_id, course_id, tag, category_id) as (
      select f.course_id, t.course_id, f.tag, null::uuid
      from features f join analytics.course_tags t on t.tag = f.tag
      union all
      select f.course_id, c.course_id, null, f.category_id
      from features f join analytics.courses c on c.category_id = f.category_id
    ),
    pairs as (
      select mine_id, course_id, count(*) as n,
             coalesce(array_agg(tag order by tag) filter (where tag is not null), '{}') as shared_tags,
             bool_or(category_id is not null) as same_category
      from shared where course_id <> mine_id
      group by mine_id, course_id
    )
    select course_id, title, because, category, shared_tags, same_category, score from (
      select distinct on (p.course_id) p.course_id, c.title, m.title as because, cat.name as category,
             p.shared_tags, p.same_category,
             p.n::float8 / (${size('m')} + ${size('c')} - p.n) as score,
             coalesce(b.buyers, 0) as buyers
      from pairs p
      join analytics.courses c on c.course_id = p.course_id and c.status = 'published'
      join analytics.courses m on m.course_id = p.mine_id
      left join analytics.categories cat on cat.category_id = c.category_id
      left join analytics.course_buyers b on b.course_id = c.course_id
      where ${open(userId, sql.ref('p.course_id'))}
      order by p.course_id, score desc, m.title
    ) x order by score desc, buyers desc, course_id limit ${limit}`.execute(db);
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
