import { type Kysely, sql } from 'kysely';

/**
 * The moderation log keeps whose post each entry is about, so a user's data export finds the
 * decisions on their posts by their id, also once the post is gone (the log has no foreign key
 * and outlives its subject).
 *
 * - `author_id`: the author of the review or comment, or of the instructor reply for a reply
 *   entry. Null on rows written before this migration whose post (or reply) no longer exists.
 * - `part`: `item` or `reply`, as the decision route and the export already name it; a reply
 *   entry keeps `subject_type = 'review'` and the review's id (the reply has no id of its own), so
 *   the audit trail of a review still lists its reply's entries and `subject_type` keeps meaning
 *   what reports and votes mean by it.
 *
 * Older rows: reply entries were told apart only by the reason's prefix (`reply: ` from a
 * decision, `reply, word list: ` from the word list), which is what sets their `part` here. A
 * reply entry gets the current reply's author only when it is not older than that reply: an
 * earlier reply may have been another instructor's, and their decisions are not this one's data.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table community.moderation_log
    add column author_id uuid,
    add column part text not null default 'item'
      constraint moderation_log_part_check check (part in ('item', 'reply') and (part = 'item' or subject_type = 'review'))`.execute(
    db,
  );
  await sql`update community.moderation_log set part = 'reply'
    where subject_type = 'review' and (reason like 'reply: %' or reason like 'reply, word list: %')`.execute(
    db,
  );
  await sql`update community.moderation_log m set author_id = r.author_id
    from community.reviews r
    where m.subject_type = 'review' and m.part = 'item' and r.id = m.subject_id`.execute(db);
  await sql`update community.moderation_log m set author_id = r.reply_author_id
    from community.reviews r
    where m.subject_type = 'review' and m.part = 'reply' and r.id = m.subject_id and m.at >= r.replied_at`.execute(
    db,
  );
  // a tombstone keeps its author's id, so decisions on it are still theirs
  await sql`update community.moderation_log m set author_id = c.author_id
    from community.comments c
    where m.subject_type = 'comment' and c.id = m.subject_id`.execute(db);
  await sql`create index moderation_log_author_idx on community.moderation_log (author_id, id)
    where author_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists community.moderation_log_author_idx`.execute(db);
  await sql`alter table community.moderation_log drop column part, drop column author_id`.execute(db);
}
