import { type Kysely, sql } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { CommunityTables } from './tables.js';

type Db = Kysely<CommunityTables>;

export interface RatingCounts {
  count: number;
  sum: number;
  /** Reviews per star, index 0 = 1 star. */
  distribution: [number, number, number, number, number];
}

/**
 * First key of the recount lock: advisory locks of two int4 keys never meet those of one int8 key
 * (the migration runner's, pg-boss's), and this fixed first key keeps them apart from any other
 * two-key lock. The second key is `hashtext` of the course id; two courses sharing a hash only
 * wait for each other.
 */
const RECOUNT_LOCK_SPACE = 0x63726174; // "crat": community course ratings

/**
 * Take the course's recount lock until the transaction ends: recounts of one course run one at a
 * time, so the count that follows (a new snapshot per statement under READ COMMITTED) sees every
 * change committed before the lock was granted, and the last to write is the last to count.
 */
export async function lockCourseRating(db: Db, courseId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(RECOUNT_LOCK_SPACE)}, hashtext(${courseId}))`.execute(db);
}

/** The course's visible reviews counted per star, from the reviews themselves. */
export async function countRatings(db: Db, courseId: string): Promise<RatingCounts> {
  const rows = await db
    .selectFrom('community.reviews')
    .select(['rating', (eb) => eb.fn.countAll<string>().as('n')])
    .where('course_id', '=', courseId)
    .where('status', '=', 'visible')
    .groupBy('rating')
    .execute();
  const distribution: RatingCounts['distribution'] = [0, 0, 0, 0, 0];
  let count = 0;
  let sum = 0;
  for (const r of rows) {
    const n = Number(r.n);
    distribution[r.rating - 1] = n;
    count += n;
    sum += n * r.rating;
  }
  return { count, sum, distribution };
}

export async function storeRating(
  db: Db,
  courseId: string,
  counts: RatingCounts,
  bayesian: number,
  at: Date,
) {
  const [r1, r2, r3, r4, r5] = counts.distribution;
  const values = { count: counts.count, sum: counts.sum, r1, r2, r3, r4, r5, bayesian, updated_at: at };
  await db
    .insertInto('community.course_ratings')
    .values({ course_id: courseId, ...values })
    .onConflict((oc) => oc.column('course_id').doUpdateSet(values))
    .execute();
}

export async function findRatings(db: Db, courseIds: string[]) {
  if (courseIds.length === 0) return [];
  return db.selectFrom('community.course_ratings').selectAll().where('course_id', 'in', courseIds).execute();
}

/** Courses by Bayesian average, best first (plus one row); keyset after (bayesian, course id). */
export async function listByBayesian(db: Db, limit: number, cursor: string | undefined) {
  return keyset(db.selectFrom('community.course_ratings').selectAll().where('count', '>', 0), {
    columns: ['bayesian', 'course_id'],
    direction: 'desc',
    limit,
    cursor,
    shape: ['number', 'uuid'],
    tag: 'bayesian',
  }).execute();
}

/**
 * Courses whose stored aggregate differs from their visible reviews, or whose Bayesian average
 * was computed with another prior (`weight`, `mean`): what the nightly recount repairs.
 */
export async function driftedRatings(db: Db, prior: { mean: number; weight: number }): Promise<string[]> {
  const { rows } = await sql<{ course_id: string }>`
    with a as (
      select course_id, count(*)::int as n, sum(rating)::int as s,
        count(*) filter (where rating = 1)::int as r1, count(*) filter (where rating = 2)::int as r2,
        count(*) filter (where rating = 3)::int as r3, count(*) filter (where rating = 4)::int as r4,
        count(*) filter (where rating = 5)::int as r5
      from community.reviews where status = 'visible' group by course_id
    )
    select coalesce(a.course_id, c.course_id) as course_id
    from a full join community.course_ratings c on c.course_id = a.course_id
    where c.course_id is null
      or c.count <> coalesce(a.n, 0) or c.sum <> coalesce(a.s, 0)
      or c.r1 <> coalesce(a.r1, 0) or c.r2 <> coalesce(a.r2, 0) or c.r3 <> coalesce(a.r3, 0)
      or c.r4 <> coalesce(a.r4, 0) or c.r5 <> coalesce(a.r5, 0)
      or abs(c.bayesian - (${prior.weight * prior.mean}::float8 + coalesce(a.s, 0))
        / nullif(${prior.weight}::float8 + coalesce(a.n, 0), 0)) > 1e-9`.execute(db);
  return rows.map((r) => r.course_id);
}
