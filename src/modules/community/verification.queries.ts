import { type Kysely, sql } from 'kysely';
import type { CommunityTables } from './tables.js';

/**
 * Of these (user, course) pairs, those with a review whose verified mark is off, as
 * `${userId}:${courseId}` keys; one statement for the lot (the course-author unique key's index).
 */
export async function unverifiedReviewKeys(
  db: Kysely<CommunityTables>,
  pairs: readonly { userId: string; courseId: string }[],
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const rows = await db
    .selectFrom('community.reviews')
    .select(['author_id', 'course_id'])
    .where('verified', '=', false)
    .where(
      sql<boolean>`(course_id, author_id) in (${sql.join(pairs.map((p) => sql`(${p.courseId}::uuid, ${p.userId}::uuid)`))})`,
    )
    .execute();
  return new Set(rows.map((r) => `${r.author_id}:${r.course_id}`));
}
