import { type Kysely, sql } from 'kysely';
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

/**
 * Reviews or comments whose stored counts or score differ from their votes (drift after a bug, a
 * restore, a hand edit): what the nightly recount repairs. The score is compared with the Wilson
 * lower bound computed here as the vote path computes it, within rounding.
 */
export async function driftedScores(db: Db, type: SubjectType, z: number): Promise<string[]> {
  const t = TABLES[type];
  const z2 = z * z;
  const { rows } = await sql<{ id: string }>`
    with v as (
      select ${sql.ref(t.key)} as id,
        count(*) filter (where helpful)::int as up, count(*) filter (where not helpful)::int as down
      from ${sql.table(t.votes)} group by 1
    ), s as (
      select i.id, i.up_votes, i.down_votes, i.wilson, coalesce(v.up, 0) as up, coalesce(v.down, 0) as down
      from ${sql.table(t.items)} i left join v on v.id = i.id
    )
    select id from s
    where up_votes <> up or down_votes <> down
      or abs(wilson - case when up + down = 0 then 0 else
        (up::float8 / (up + down) + ${z2}::float8 / (2 * (up + down))
          - ${z}::float8 * sqrt((up::float8 / (up + down) * (1 - up::float8 / (up + down))
            + ${z2}::float8 / (4 * (up + down))) / (up + down)))
        / (1 + ${z2}::float8 / (up + down)) end) > 1e-9`.execute(db);
  return rows.map((r) => r.id);
}
