import { type Kysely, sql } from 'kysely';

/**
 * `reviews.listed`: the part of a review's wire JSON that depends only on its own row, written by a
 * trigger on every insert and update, so a list page reads it instead of building it (building
 * each review's JSON was four fifths of what PostgreSQL spent on a page; bench/RESULTS.md).
 *
 * The text is the `Review` object open at its end: every key but `votes.mine` (the reader's own
 * vote) and `author` (whose display name is community's copy of identity's, kept in `members`),
 * which the page's statement appends (`reviewsPageText`). Keys are the schema's, `votes` and
 * `author` last. A trigger rather than each write path: every update of a row, whichever statement
 * makes it (a vote's recount, moderation, the verified mark, the nightly recount, the bench's bulk
 * insert), leaves the text current, and none can forget to. Changing the wire shape of a listed
 * review means a migration that replaces this function and rewrites the rows.
 *
 * Strings go through `to_json` (JSON escaping), booleans as `::text` (format writes `t`/`f`),
 * times in UTC through `to_char`; uuids, integers and the float score are valid JSON as written.
 * A reply is shown only when visible, as `toReview` shows it to readers.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table community.reviews add column listed text`.execute(db);
  await sql`
    create function community.review_listed_text() returns trigger language plpgsql as $$
    begin
      new.listed := format(
        '{"id":"%s","courseId":"%s","rating":%s,"body":%s,"verified":%s,"status":%s,"reply":%s,'
          '"createdAt":"%s","updatedAt":"%s","votes":{"helpful":%s,"unhelpful":%s,"score":%s,"mine":',
        new.id, new.course_id, new.rating, to_json(new.body), new.verified::text, to_json(new.status),
        case when new.reply_status = 'visible' and new.reply_body is not null
            and new.reply_author_id is not null and new.replied_at is not null
          then format('{"body":%s,"authorId":"%s","status":%s,"repliedAt":"%s"}',
            to_json(new.reply_body), new.reply_author_id, to_json(new.reply_status),
            to_char(new.replied_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
          else 'null' end,
        to_char(new.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(new.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        new.up_votes, new.down_votes, new.wilson);
      return new;
    end $$`.execute(db);
  await sql`
    create trigger reviews_listed_text before insert or update on community.reviews
    for each row execute function community.review_listed_text()`.execute(db);
  // the trigger writes the text of the rows there already
  await sql`update community.reviews set listed = null`.execute(db);
  await sql`alter table community.reviews alter column listed set not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger reviews_listed_text on community.reviews`.execute(db);
  await sql`drop function community.review_listed_text()`.execute(db);
  await sql`alter table community.reviews drop column listed`.execute(db);
}
