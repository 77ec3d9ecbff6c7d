import { type Kysely, sql } from 'kysely';

/**
 * - `comments.deleted_at`: a comment deleted while it has replies stays as a tombstone (no text,
 *   no author shown, no votes), so its thread keeps its place; without replies it is deleted.
 * - `reviews.reply_status`: an instructor's reply goes through the word list like any post; a
 *   held reply waits for a moderator, a hidden one is shown to no reader.
 * - `grants` is dropped: the verified mark now follows learning's own answer (a job asks it after
 *   each grant or revocation), which the copy could not give for grants older than community.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table community.comments add column deleted_at timestamptz(3)`.execute(db);
  await sql`alter table community.reviews add column reply_status text
    check (reply_status in ('visible', 'held', 'hidden'))`.execute(db);
  await sql`update community.reviews set reply_status = 'visible' where reply_body is not null`.execute(db);
  await sql`create index reviews_held_reply_idx on community.reviews (created_at, id) where reply_status = 'held'`.execute(
    db,
  );
  await db.schema.withSchema('community').dropTable('grants').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .withSchema('community')
    .createTable('grants')
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('grants_pkey', ['user_id', 'course_id', 'source', 'source_id'])
    .execute();
  await sql`drop index if exists community.reviews_held_reply_idx`.execute(db);
  await sql`alter table community.reviews drop column reply_status`.execute(db);
  await sql`alter table community.comments drop column deleted_at`.execute(db);
}
