import type { Kysely, Selectable } from 'kysely';
import { inOrder, type ReviewSort } from './reviews.queries.js';
import type { CommentTable, CommunityTables } from './tables.js';

type Db = Kysely<CommunityTables>;
export type CommentRow = Selectable<CommentTable> & { author_name: string | null };

const withAuthor = (db: Db) =>
  db
    .selectFrom('community.comments as c')
    .leftJoin('community.members as m', 'm.user_id', 'c.author_id')
    .selectAll('c')
    .select('m.display_name as author_name');

export const findComment = (db: Db, id: string): Promise<CommentRow | undefined> =>
  withAuthor(db).where('c.id', '=', id).executeTakeFirst();

export const lockComment = (db: Db, id: string) =>
  db.selectFrom('community.comments').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();

/** One page (plus one row) of a lesson's top-level visible comments in `sort` order, after the cursor's row. */
export async function listTopLevel(
  db: Db,
  lessonId: string,
  sort: ReviewSort,
  limit: number,
  cursor: string | undefined,
): Promise<CommentRow[]> {
  const q = withAuthor(db)
    .where('c.lesson_id', '=', lessonId)
    .where('c.status', '=', 'visible')
    .where('c.parent_id', 'is', null);
  return inOrder(q, 'c', sort, limit, cursor).execute();
}

/** Visible replies of these comments, oldest first. */
export async function visibleReplies(db: Db, parentIds: string[]): Promise<CommentRow[]> {
  if (parentIds.length === 0) return [];
  return withAuthor(db)
    .where('c.parent_id', 'in', parentIds)
    .where('c.status', '=', 'visible')
    .orderBy('c.created_at')
    .orderBy('c.id')
    .execute();
}

export async function insertComment(
  db: Db,
  row: Omit<Selectable<CommentTable>, 'up_votes' | 'down_votes' | 'wilson' | 'deleted_at'>,
) {
  await db.insertInto('community.comments').values(row).execute();
}

export async function insertMentions(db: Db, commentId: string, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db
    .insertInto('community.mentions')
    .values(userIds.map((user_id) => ({ comment_id: commentId, user_id })))
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * Make the stored mentions of a comment exactly `userIds`: those no longer named are deleted,
 * the newly named inserted. Returns who was added and who removed (the caller holds the
 * comment's row lock, so no other edit moves the set in between).
 */
export async function replaceMentions(
  db: Db,
  commentId: string,
  userIds: string[],
): Promise<{ added: string[]; removed: string[] }> {
  const removed = await db
    .deleteFrom('community.mentions')
    .where('comment_id', '=', commentId)
    .where((eb) => (userIds.length === 0 ? eb.lit(true) : eb('user_id', 'not in', userIds)))
    .returning('user_id')
    .execute();
  const added =
    userIds.length === 0
      ? []
      : await db
          .insertInto('community.mentions')
          .values(userIds.map((user_id) => ({ comment_id: commentId, user_id })))
          .onConflict((oc) => oc.doNothing())
          .returning('user_id')
          .execute();
  return { added: added.map((r) => r.user_id), removed: removed.map((r) => r.user_id) };
}

export async function mentionsOf(db: Db, commentIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (commentIds.length === 0) return out;
  const rows = await db
    .selectFrom('community.mentions')
    .select(['comment_id', 'user_id'])
    .where('comment_id', 'in', commentIds)
    .execute();
  for (const r of rows) out.set(r.comment_id, [...(out.get(r.comment_id) ?? []), r.user_id]);
  return out;
}

export async function commentVotesOf(db: Db, userId: string, ids: string[]): Promise<Map<string, boolean>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('community.comment_votes')
    .select(['comment_id', 'helpful'])
    .where('user_id', '=', userId)
    .where('comment_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.comment_id, r.helpful]));
}

/** Members whose name, in mention form, is one of these keys. */
export async function membersByNameKey(db: Db, keys: string[]) {
  if (keys.length === 0) return [];
  return db
    .selectFrom('community.members')
    .select(['user_id', 'name_key'])
    .where('name_key', 'in', keys)
    .execute();
}

export async function hasReplies(db: Db, id: string): Promise<boolean> {
  const row = await db
    .selectFrom('community.comments')
    .select('id')
    .where('parent_id', '=', id)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Text and score gone, votes and mentions deleted; the row keeps its place in the thread. */
export async function tombstoneComment(db: Db, id: string, at: Date): Promise<void> {
  await db.deleteFrom('community.comment_votes').where('comment_id', '=', id).execute();
  await db.deleteFrom('community.mentions').where('comment_id', '=', id).execute();
  await db
    .updateTable('community.comments')
    .set({
      body: '',
      status: 'visible',
      up_votes: 0,
      down_votes: 0,
      wilson: 0,
      deleted_at: at,
      updated_at: at,
    })
    .where('id', '=', id)
    .execute();
}

/** Votes and mentions go with it (foreign keys with ON DELETE CASCADE). */
export async function deleteComment(db: Db, id: string): Promise<void> {
  await db.deleteFrom('community.comments').where('id', '=', id).execute();
}

/** Delete the comment if it is a tombstone with no reply left. */
export async function deleteEmptyTombstone(db: Db, id: string): Promise<void> {
  await db
    .deleteFrom('community.comments as c')
    .where('c.id', '=', id)
    .where('c.deleted_at', 'is not', null)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('community.comments as r').select('r.id').whereRef('r.parent_id', '=', 'c.id'),
        ),
      ),
    )
    .execute();
}

export async function hasAnyComment(db: Db): Promise<boolean> {
  return (await db.selectFrom('community.comments').select('id').limit(1).executeTakeFirst()) !== undefined;
}
