import { type Kysely, sql } from 'kysely';

/**
 * Indexes that start with the user's id, for the reads of one user's rows in a personal-data
 * export (`personal-data.queries.ts`): each of its pages is a short range of one index instead of
 * a scan of the whole table. Reviews by author already have `reviews_author_idx`; the reply's is
 * partial, as most reviews have no reply.
 */
const INDEXES = [
  ['comments_author_idx', 'community.comments (author_id, id)'],
  ['review_votes_user_idx', 'community.review_votes (user_id, review_id)'],
  ['comment_votes_user_idx', 'community.comment_votes (user_id, comment_id)'],
  ['mentions_user_idx', 'community.mentions (user_id, comment_id)'],
  ['reports_reporter_idx', 'community.reports (reporter_id, id)'],
  ['reviews_reply_author_idx', 'community.reviews (reply_author_id, id) where reply_author_id is not null'],
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [name, on] of INDEXES) {
    await sql`create index ${sql.raw(name)} on ${sql.raw(on)}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [name] of INDEXES) {
    await sql`drop index if exists ${sql.raw(`community.${name}`)}`.execute(db);
  }
}
