import type { Kysely } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { CommunityTables } from './tables.js';

type Db = Kysely<CommunityTables>;

export interface RatingCounts {
  count: number;
  sum: number;
  /** Reviews per star, index 0 = 1 star. */
  distribution: [number, number, number, number, number];
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
