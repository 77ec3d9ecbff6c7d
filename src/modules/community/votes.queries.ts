import type { Kysely } from 'kysely';
import type { CommunityTables, SubjectType } from './tables.js';

type Db = Kysely<CommunityTables>;

/**
 * Votes on reviews and on comments: the same rules over two tables, each with a foreign key to
 * its subject that cascades on delete (a deleted review takes its votes with it).
 */
const TABLES = {
  review: { votes: 'community.review_votes', key: 'review_id', items: 'community.reviews' },
  comment: { votes: 'community.comment_votes', key: 'comment_id', items: 'community.comments' },
} as const;

export async function upsertVote(
  db: Db,
  type: SubjectType,
  subjectId: string,
  userId: string,
  helpful: boolean,
  at: Date,
): Promise<void> {
  if (type === 'review') {
    await db
      .insertInto('community.review_votes')
      .values({ review_id: subjectId, user_id: userId, helpful, voted_at: at })
      .onConflict((oc) => oc.columns(['review_id', 'user_id']).doUpdateSet({ helpful, voted_at: at }))
      .execute();
  } else {
    await db
      .insertInto('community.comment_votes')
      .values({ comment_id: subjectId, user_id: userId, helpful, voted_at: at })
      .onConflict((oc) => oc.columns(['comment_id', 'user_id']).doUpdateSet({ helpful, voted_at: at }))
      .execute();
  }
}

export async function deleteVote(
  db: Db,
  type: SubjectType,
  subjectId: string,
  userId: string,
): Promise<void> {
  if (type === 'review') {
    await db
      .deleteFrom('community.review_votes')
      .where('review_id', '=', subjectId)
      .where('user_id', '=', userId)
      .execute();
  } else {
    await db
      .deleteFrom('community.comment_votes')
      .where('comment_id', '=', subjectId)
      .where('user_id', '=', userId)
      .execute();
  }
}

/** Helpful and unhelpful votes of one subject, counted from the votes themselves. */
export async function countVotes(
  db: Db,
  type: SubjectType,
  subjectId: string,
): Promise<{ up: number; down: number }> {
  const t = TABLES[type];
  const row = await db
    .selectFrom(t.votes)
    .select((eb) => [
      eb.fn.countAll<string>().filterWhere('helpful', '=', true).as('up'),
      eb.fn.countAll<string>().filterWhere('helpful', '=', false).as('down'),
    ])
    .where(t.key, '=', subjectId)
    .executeTakeFirstOrThrow();
  return { up: Number(row.up), down: Number(row.down) };
}

export async function storeScore(
  db: Db,
  type: SubjectType,
  subjectId: string,
  score: { up: number; down: number; wilson: number },
): Promise<void> {
  await db
    .updateTable(TABLES[type].items)
    .set({ up_votes: score.up, down_votes: score.down, wilson: score.wilson })
    .where('id', '=', subjectId)
    .execute();
}
