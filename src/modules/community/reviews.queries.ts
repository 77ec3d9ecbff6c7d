import type { Kysely, SelectQueryBuilder } from 'kysely';
import { type CursorPart, type CursorValue, decodeCursor, keyset } from '../../platform/http/pagination.js';
import { namedRows } from '../../platform/db/prepared.js';
import type { CommunityTables, ItemStatus, ReviewTable } from './tables.js';
import type { Selectable } from 'kysely';

type Db = Kysely<CommunityTables>;
export type ReviewRow = Selectable<ReviewTable> & { author_name: string | null };

export type ReviewSort = 'newest' | 'oldest' | 'helpful' | 'best';
export type OrderColumn = 'created_at' | 'up_votes' | 'wilson';

/**
 * Each public order (of reviews, and of a lesson's top-level comments): its sort column, then
 * the id, in one direction, and the type of the column's cursor value; each has its partial index.
 */
export const ORDERS: Record<ReviewSort, { column: OrderColumn; dir: 'asc' | 'desc'; part: CursorPart }> = {
  newest: { column: 'created_at', dir: 'desc', part: 'date-time' },
  oldest: { column: 'created_at', dir: 'asc', part: 'date-time' },
  helpful: { column: 'up_votes', dir: 'desc', part: 'int32' },
  best: { column: 'wilson', dir: 'desc', part: 'number' },
};

/** The cursor values of a row in an order: its sort value, then its id. */
export const cursorOf =
  (sort: ReviewSort) =>
  (row: { id: string; created_at: Date | string; up_votes: number; wilson: number }): CursorValue[] => {
    const { column } = ORDERS[sort];
    const value = column === 'created_at' ? new Date(row.created_at).toISOString() : row[column];
    return [value, row.id];
  };

const withAuthor = (db: Db) =>
  db
    .selectFrom('community.reviews as r')
    .leftJoin('community.members as m', 'm.user_id', 'r.author_id')
    .selectAll('r')
    .select('m.display_name as author_name');

export async function findReview(db: Db, id: string): Promise<ReviewRow | undefined> {
  return withAuthor(db).where('r.id', '=', id).executeTakeFirst();
}

/** The review row locked for the rest of the transaction (votes and edits of one review queue up). */
export async function lockReview(db: Db, id: string) {
  return db.selectFrom('community.reviews').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * A review of a list page as PostgreSQL wrote it: `review` is its wire JSON text (the `Review`
 * schema, key for key, with the values `toReview` gives; `votes` and `author` last), and `after` its
 * sort value, which with the id makes the next page's cursor. Parsing 18 fields a row into
 * objects, mapping them and serialising them back cost Node more than the rest of the page.
 */
export interface ListedReview {
  id: string;
  after: CursorValue;
  review: string;
}

const isoText = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** The sort value of each order as the cursor carries it (times as the ISO text `cursorOf` writes). */
const AFTER: Record<OrderColumn, string> = {
  created_at: isoText('r.created_at'),
  up_votes: 'r.up_votes',
  wilson: 'r.wilson',
};

/** The page size a client gets without `limit`; its pages run as named statements (below). */
export const DEFAULT_PAGE_SIZE = 20;

/**
 * One page (plus one row) of a course's visible reviews in `sort` order, after the cursor's row,
 * each with the reader's own vote (`mine`, null without one or for anonymous readers): one round
 * trip per page, an index scan on the order's partial index (see the migration). The author's
 * name and the reader's vote are subqueries on their primary keys (one row or none, as a left
 * join would give): the same index lookups, and half the planning time of two joins.
 *
 * Each row comes back as its wire JSON in the `Review` schema's shape (compact, `votes` and
 * `author` last; a reply only when visible, as `toReview` shows it to readers), so Node reads
 * three fields a row and writes the page by joining them (reviews.service.ts). The row's own part
 * is stored beside it (`listed`, written by a trigger on every write, migration 0003); the page
 * appends the reader's vote and the author's name. Building the text per read (`format`) was four
 * fifths of what PostgreSQL spent on a page; `row_to_json` or `json_build_object` cost 80–90 µs
 * more a page than that (their per-value type lookups).
 * `reviews.test.ts` compares every review of a page with the same review read alone through the
 * route's serializer, with text that needs escaping, a held reply, a lost mark and own votes.
 *
 * SQL text rather than the query builder (building and compiling its tree on every request cost
 * about as much as running the query), and, for pages of the default size, a named prepared
 * statement (see platform/db/prepared.ts): PostgreSQL no longer parses and plans it on every request. The
 * limit is written into the text, not sent as a parameter: with `limit $n` PostgreSQL cannot
 * cost the generic plan (it assumes a tenth of the course's reviews) and plans every run anew.
 * Other sizes stay unnamed, so a client cannot make each connection keep a plan per size.
 */
export async function listVisibleReviews(
  db: Db,
  courseId: string,
  sort: ReviewSort,
  limit: number,
  cursor: string | undefined,
  readerId: string | undefined,
): Promise<ListedReview[]> {
  const values: unknown[] = [courseId];
  if (readerId !== undefined) values.push(readerId);
  if (cursor) values.push(...decodeCursor(cursor, [ORDERS[sort].part, 'uuid'], sort));
  const given = { reader: readerId !== undefined, after: cursor !== undefined };
  if (limit !== DEFAULT_PAGE_SIZE) {
    return namedRows<ListedReview, CommunityTables>(
      db,
      undefined,
      reviewsPageText(sort, limit, given),
      values,
    );
  }
  const name = `community.reviews.${sort}.${given.after ? 'after' : 'first'}.${given.reader ? 'reader' : 'anyone'}`;
  // a named statement's text is built once: pg compares it with the parsed one on every run
  let text = NAMED_TEXTS.get(name);
  if (text === undefined) {
    text = reviewsPageText(sort, limit, given);
    NAMED_TEXTS.set(name, text);
  }
  return namedRows<ListedReview, CommunityTables>(db, name, text, values);
}

/** The texts of the named page statements, by name (four orders × reader or not × first or after). */
const NAMED_TEXTS = new Map<string, string>();

/**
 * The text of `listVisibleReviews`'s statement, its parameters in this order: $1 the course, then
 * the reader's id when `reader`, then the cursor's sort value and id when `after`. Also what the
 * bench's floor row runs (bench/bare-pg.ts), so the two cannot drift apart.
 */
export function reviewsPageText(
  sort: ReviewSort,
  limit: number,
  given: { reader: boolean; after: boolean },
): string {
  // the limit goes into the SQL text: only the integers the route's schema lets through
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new Error(`bad page size ${limit}`);
  const { column, dir } = ORDERS[sort];
  let next = 2;
  // the reader's own vote as JSON text (a boolean as ::text), null without one or without a reader
  const mine = given.reader
    ? `coalesce((select v.helpful from community.review_votes v where v.review_id = r.id and v.user_id = $${next++})::text, 'null')`
    : `'null'`;
  const after = given.after
    ? `and (r.${column}, r.id) ${dir === 'asc' ? '>' : '<'} ($${next++}, $${next++})`
    : '';
  // the row's own part of the review is its stored text (migration 0003); the reader's vote and
  // the author's name, which are not, close it (to_json escapes the name)
  return `select r.id, ${AFTER[column]} as after,
        r.listed || ${mine} || '},"author":{"id":"' || r.author_id || '","displayName":'
          || coalesce(to_json((select m.display_name from community.members m where m.user_id = r.author_id))::text, 'null')
          || '}}' as review
    from community.reviews r
    where r.course_id = $1 and r.status = 'visible' ${after}
    order by r.${column} ${dir}, r.id ${dir}
    limit ${limit + 1}`;
}

/** A query of reviews (`r`) or comments (`c`) in one public order, one page plus one row after the cursor's row. */
export function inOrder<DB, TB extends keyof DB, O>(
  q: SelectQueryBuilder<DB, TB, O>,
  alias: 'r' | 'c',
  sort: ReviewSort,
  limit: number,
  cursor: string | undefined,
) {
  const { column, dir, part } = ORDERS[sort];
  return keyset(q, {
    columns: [`${alias}.${column}`, `${alias}.id`],
    direction: dir,
    limit,
    cursor,
    shape: [part, 'uuid'],
    tag: sort,
  });
}

export async function insertReview(
  db: Db,
  row: {
    id: string;
    course_id: string;
    author_id: string;
    rating: number;
    body: string;
    verified: boolean;
    status: ItemStatus;
    at: Date;
  },
): Promise<boolean> {
  const inserted = await db
    .insertInto('community.reviews')
    .values({
      id: row.id,
      course_id: row.course_id,
      author_id: row.author_id,
      rating: row.rating,
      body: row.body,
      verified: row.verified,
      status: row.status,
      created_at: row.at,
      updated_at: row.at,
      first_visible_at: row.status === 'visible' ? row.at : null,
    })
    .onConflict((oc) => oc.columns(['course_id', 'author_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function updateReview(
  db: Db,
  id: string,
  values: Partial<{
    rating: number;
    body: string;
    status: ItemStatus;
    verified: boolean;
    reply_body: string | null;
    reply_author_id: string | null;
    reply_status: ItemStatus | null;
    replied_at: Date | null;
    updated_at: Date;
  }>,
) {
  return db
    .updateTable('community.reviews')
    .set(values)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function deleteReview(db: Db, id: string): Promise<void> {
  await db.deleteFrom('community.reviews').where('id', '=', id).execute();
}

/** The viewer's votes on these reviews. */
export async function reviewVotesOf(db: Db, userId: string, ids: string[]): Promise<Map<string, boolean>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('community.review_votes')
    .select(['review_id', 'helpful'])
    .where('user_id', '=', userId)
    .where('review_id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.review_id, r.helpful]));
}

/** Reviews of one author and course (at most one). */
export async function reviewsOfAuthor(db: Db, authorId: string, courseId: string) {
  return db
    .selectFrom('community.reviews')
    .selectAll()
    .where('author_id', '=', authorId)
    .where('course_id', '=', courseId)
    .execute();
}

/** The courses an author has reviewed (their cached pages show the author's name). */
export async function coursesReviewedBy(db: Db, authorId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('community.reviews')
    .select('course_id')
    .where('author_id', '=', authorId)
    .execute();
  return rows.map((r) => r.course_id);
}
