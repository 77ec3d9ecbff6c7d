import type { Kysely } from 'kysely';
import { type ExportSections, pagedSection } from '../../platform/personal-data.js';
import type { CommunityTables } from './tables.js';

type Db = Kysely<CommunityTables>;

/**
 * What community holds about one user as a person, for their copy of their personal data (PIPL
 * Art. 45): the reviews, replies and comments they wrote, their votes, the comments that mention
 * them, the reports they filed, the moderation decisions on what they wrote, and community's copy
 * of their display name.
 *
 * Only the user's own rows: an instructor's reply to their review, the reports others filed on
 * their posts, and the `reported` entries of the moderation log are other people's text and ids;
 * the log's `actor_id` (the moderator) is left out too. Each long section is keyset-paged on a
 * key unique within the user's rows, under an index that starts with the user's id (migrations
 * 0004 and 0005), so a page is a short index range whatever the size of the table.
 */

const iso = (at: Date | string): string => new Date(at).toISOString();
const isoOrNull = (at: Date | string | null): string | null => (at === null ? null : iso(at));

async function memberOf(db: Db, userId: string) {
  const row = await db
    .selectFrom('community.members')
    .select('display_name')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row ? { displayName: row.display_name } : null;
}

/** One review per course and author (`reviews_course_author_key`): the course orders them. */
const reviewsPage = (db: Db, userId: string, after: { course_id: string } | undefined, size: number) =>
  db
    .selectFrom('community.reviews')
    .select([
      'id',
      'course_id',
      'rating',
      'body',
      'verified',
      'status',
      'up_votes',
      'down_votes',
      'created_at',
      'updated_at',
    ])
    .where('author_id', '=', userId)
    .where((eb) => (after ? eb('course_id', '>', after.course_id) : eb.lit(true)))
    .orderBy('course_id')
    .limit(size)
    .execute();

/** Replies the user wrote as an instructor, without the review they answer (its author's text). */
const reviewRepliesPage = (db: Db, userId: string, after: { id: string } | undefined, size: number) =>
  db
    .selectFrom('community.reviews')
    .select(['id', 'course_id', 'reply_body', 'reply_status', 'replied_at'])
    .where('reply_author_id', '=', userId)
    .where((eb) => (after ? eb('id', '>', after.id) : eb.lit(true)))
    .orderBy('id')
    .limit(size)
    .execute();

/** Their comments and replies, tombstones included (their row is still kept, with no text). */
const commentsPage = (db: Db, userId: string, after: { id: string } | undefined, size: number) =>
  db
    .selectFrom('community.comments')
    .select([
      'id',
      'lesson_id',
      'course_id',
      'parent_id',
      'body',
      'by_instructor',
      'status',
      'up_votes',
      'down_votes',
      'created_at',
      'updated_at',
      'deleted_at',
    ])
    .where('author_id', '=', userId)
    .where((eb) => (after ? eb('id', '>', after.id) : eb.lit(true)))
    .orderBy('id')
    .limit(size)
    .execute();

const reviewVotesPage = (db: Db, userId: string, after: { review_id: string } | undefined, size: number) =>
  db
    .selectFrom('community.review_votes')
    .select(['review_id', 'helpful', 'voted_at'])
    .where('user_id', '=', userId)
    .where((eb) => (after ? eb('review_id', '>', after.review_id) : eb.lit(true)))
    .orderBy('review_id')
    .limit(size)
    .execute();

const commentVotesPage = (db: Db, userId: string, after: { comment_id: string } | undefined, size: number) =>
  db
    .selectFrom('community.comment_votes')
    .select(['comment_id', 'helpful', 'voted_at'])
    .where('user_id', '=', userId)
    .where((eb) => (after ? eb('comment_id', '>', after.comment_id) : eb.lit(true)))
    .orderBy('comment_id')
    .limit(size)
    .execute();

/** Comments that mention the user: where and when, not the text (someone else wrote it). */
const mentionsPage = (db: Db, userId: string, after: { comment_id: string } | undefined, size: number) =>
  db
    .selectFrom('community.mentions as n')
    .innerJoin('community.comments as c', 'c.id', 'n.comment_id')
    .select(['n.comment_id', 'c.lesson_id', 'c.course_id', 'c.created_at'])
    .where('n.user_id', '=', userId)
    .where((eb) => (after ? eb('n.comment_id', '>', after.comment_id) : eb.lit(true)))
    .orderBy('n.comment_id')
    .limit(size)
    .execute();

const reportsPage = (db: Db, userId: string, after: { id: string } | undefined, size: number) =>
  db
    .selectFrom('community.reports')
    .select(['id', 'subject_type', 'subject_id', 'reason', 'created_at', 'resolved_at'])
    .where('reporter_id', '=', userId)
    .where((eb) => (after ? eb('id', '>', after.id) : eb.lit(true)))
    .orderBy('id')
    .limit(size)
    .execute();

/**
 * The moderation log of what the user wrote (their reviews and comments, and the instructor
 * replies they wrote), found by the author the log keeps (migration 0005), so the decisions on a
 * post since deleted are still theirs. Without who decided (`actor_id`) and without `reported`
 * entries, whose actor and reason are the reporter's.
 */
const moderationDecisionsPage = (db: Db, userId: string, after: { id: string } | undefined, size: number) =>
  db
    .selectFrom('community.moderation_log')
    // `id` is the log's bigserial (a string from pg): the page's key, not exported
    .select(['id', 'subject_type', 'subject_id', 'part', 'action', 'reason', 'at'])
    .where('author_id', '=', userId)
    .where('action', '<>', 'reported')
    .where((eb) => (after ? eb('id', '>', after.id) : eb.lit(true)))
    .orderBy('id')
    .limit(size)
    .execute();

const votes = (r: { up_votes: number; down_votes: number }) => ({
  helpful: r.up_votes,
  unhelpful: r.down_votes,
});

/**
 * The part's sections. The long ones are lazy (`pagedSection`): their pages are read while the
 * part is written, so `db` must stay open until then (the inbox transaction of the subscriber).
 */
export async function personalDataSections(db: Db, userId: string, pageSize = 1000): Promise<ExportSections> {
  // the reads of this user, as `pagedSection` calls them (a plain function lets it infer the row)
  const of =
    <After, Row extends After>(
      read: (db: Db, userId: string, after: After | undefined, size: number) => Promise<Row[]>,
    ) =>
    (after: After | undefined, size: number) =>
      read(db, userId, after, size);
  return {
    member: await memberOf(db, userId),
    reviews: pagedSection(
      of(reviewsPage),
      (r) => ({
        id: r.id,
        courseId: r.course_id,
        rating: r.rating,
        body: r.body,
        verified: r.verified,
        status: r.status,
        votes: votes(r),
        createdAt: iso(r.created_at),
        updatedAt: iso(r.updated_at),
      }),
      pageSize,
    ),
    reviewReplies: pagedSection(
      of(reviewRepliesPage),
      (r) => ({
        reviewId: r.id,
        courseId: r.course_id,
        body: r.reply_body,
        status: r.reply_status,
        repliedAt: isoOrNull(r.replied_at),
      }),
      pageSize,
    ),
    comments: pagedSection(
      of(commentsPage),
      (r) => ({
        id: r.id,
        lessonId: r.lesson_id,
        courseId: r.course_id,
        parentId: r.parent_id,
        body: r.body,
        instructorAnswer: r.by_instructor,
        status: r.status,
        votes: votes(r),
        createdAt: iso(r.created_at),
        updatedAt: iso(r.updated_at),
        deletedAt: isoOrNull(r.deleted_at),
      }),
      pageSize,
    ),
    reviewVotes: pagedSection(
      of(reviewVotesPage),
      (r) => ({ reviewId: r.review_id, helpful: r.helpful, votedAt: iso(r.voted_at) }),
      pageSize,
    ),
    commentVotes: pagedSection(
      of(commentVotesPage),
      (r) => ({ commentId: r.comment_id, helpful: r.helpful, votedAt: iso(r.voted_at) }),
      pageSize,
    ),
    mentions: pagedSection(
      of(mentionsPage),
      (r) => ({
        commentId: r.comment_id,
        lessonId: r.lesson_id,
        courseId: r.course_id,
        mentionedAt: iso(r.created_at),
      }),
      pageSize,
    ),
    reports: pagedSection(
      of(reportsPage),
      (r) => ({
        id: r.id,
        subjectType: r.subject_type,
        subjectId: r.subject_id,
        reason: r.reason,
        createdAt: iso(r.created_at),
        resolvedAt: isoOrNull(r.resolved_at),
      }),
      pageSize,
    ),
    moderationDecisions: pagedSection(
      of(moderationDecisionsPage),
      (r) => ({
        subjectType: r.subject_type,
        subjectId: r.subject_id,
        part: r.part,
        action: r.action,
        reason: r.reason,
        at: iso(r.at),
      }),
      pageSize,
    ),
  };
}
