import { type Kysely, sql } from 'kysely';

/**
 * `comments.first_visible_at`: when readers could first see the comment (written visible, or let
 * out by a moderator); null while it never was. A moderator's approval of a hidden comment
 * announces it (mentions, question, reply) only when this is null: one held when written and then
 * hidden was never announced, one hidden after being shown was.
 *
 * Older rows are filled in from the moderation log. A comment the word list held when written has
 * a `held` entry by nobody (the platform) at exactly its `created_at` (`create` writes both with
 * one clock reading; a hold by a later edit is logged at the edit's time): it was first visible at
 * its first approval, if any. Every other comment was visible when written.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table community.comments add column first_visible_at timestamptz`.execute(db);
  await sql`update community.comments c set first_visible_at = case
      when exists (
        select 1 from community.moderation_log l
        where l.subject_type = 'comment' and l.subject_id = c.id and l.action = 'held'
          and l.actor_id is null and l.at = c.created_at)
      then (
        select min(l.at) from community.moderation_log l
        where l.subject_type = 'comment' and l.subject_id = c.id and l.action = 'approved')
      else c.created_at
    end`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table community.comments drop column first_visible_at`.execute(db);
}
