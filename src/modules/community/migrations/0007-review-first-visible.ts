import { type Kysely, sql } from 'kysely';

/**
 * `reviews.first_visible_at`, as `comments.first_visible_at` (0006): when readers could first see
 * the review; null while they never could. A moderator's approval of a hidden review tells the
 * course's team (`course_reviewed`) only when it is null.
 *
 * Older rows are filled in from the moderation log as 0006 does: a review the word list held when
 * written has a `held` entry about the review itself (not its reply) by nobody at exactly its
 * `created_at`; it was first visible at its first approval, if any. Every other review was visible
 * when written.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table community.reviews add column first_visible_at timestamptz`.execute(db);
  await sql`update community.reviews r set first_visible_at = case
      when exists (
        select 1 from community.moderation_log l
        where l.subject_type = 'review' and l.subject_id = r.id and l.part = 'item' and l.action = 'held'
          and l.actor_id is null and l.at = r.created_at)
      then (
        select min(l.at) from community.moderation_log l
        where l.subject_type = 'review' and l.subject_id = r.id and l.part = 'item' and l.action = 'approved')
      else r.created_at
    end`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table community.reviews drop column first_visible_at`.execute(db);
}
