import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { type Access, isInstructorOf, noticeOf, type Viewer } from './access.service.js';
import { CommunityErrors, NotFound, Refused } from './community.errors.js';
import { ReviewCreatedEvent, ReviewDeletedEvent, ReviewUpdatedEvent } from './community.events.js';
import type { ListQuery } from './community.schemas.js';
import { logAction } from './moderation.queries.js';
import { can } from './permissions.js';
import type { WindowLimit } from '../../platform/cache/window-limit.js';
import {
  countRatings,
  driftedRatings,
  findRatings,
  listByBayesian,
  lockCourseRating,
  storeRating,
} from './ratings.queries.js';
import {
  deleteReview,
  findReview,
  insertReview,
  listVisibleReviews,
  lockReview,
  DEFAULT_PAGE_SIZE,
  type ReviewRow,
  type ReviewSort,
  reviewVotesOf,
  updateReview,
} from './reviews.queries.js';
import type { CourseRating, Review } from './reviews.schemas.js';
import type { SensitiveWords } from './moderation.service.js';
import type { CommunityTables, ReviewTable } from './tables.js';
import { nonBlank } from '../../platform/text.js';
import type { Selectable } from 'kysely';

type Db = Kysely<CommunityTables>;

export interface Prior {
  /** m: the rating assumed before any review. */
  mean: number;
  /** C: how many reviews the prior weighs as. */
  weight: number;
}

/** Bayesian average (C·m + Σ ratings) / (C + n): few reviews stay near m, many speak for themselves. */
export function bayesianAverage(count: number, sum: number, prior: Prior): number {
  if (prior.weight + count === 0) return prior.mean;
  return (prior.weight * prior.mean + sum) / (prior.weight + count);
}

/**
 * The wire review. The instructor's reply is shown when visible; a held or hidden reply only to
 * whom `seesAnyReply` (its author and moderators, on single-review answers).
 */
export function toReview(row: ReviewRow, mine: boolean | null, seesAnyReply = false): Review {
  const reply =
    row.reply_body !== null &&
    row.reply_author_id !== null &&
    row.replied_at !== null &&
    row.reply_status !== null &&
    (row.reply_status === 'visible' || seesAnyReply)
      ? {
          body: row.reply_body,
          authorId: row.reply_author_id,
          status: row.reply_status,
          repliedAt: row.replied_at.toISOString(),
        }
      : null;
  return {
    id: row.id,
    courseId: row.course_id,
    author: { id: row.author_id, displayName: row.author_name },
    rating: row.rating,
    body: row.body,
    verified: row.verified,
    status: row.status,
    votes: { helpful: row.up_votes, unhelpful: row.down_votes, score: row.wilson, mine },
    reply,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The facts every review event carries. */
export const factsOf = (row: Selectable<ReviewTable>) => ({
  reviewId: row.id,
  courseId: row.course_id,
  authorId: row.author_id,
  rating: row.rating,
  verified: row.verified,
  status: row.status,
});

/** Visible to everyone when visible; held and hidden ones to their author and moderators only. */
const mayRead = (row: Selectable<ReviewTable>, viewer: Viewer | undefined) =>
  row.status === 'visible' ||
  (viewer !== undefined && (row.author_id === viewer.userId || can(viewer.roles, 'community:moderate')));

export function createReviewsService(deps: {
  db: Db;
  clock: Clock;
  access: Access;
  words: SensitiveWords;
  /** Reviews, comments and reports share one budget per user (429 past it). */
  posting: WindowLimit;
  prior: Prior;
  /** Called after a commit that changed a course's public reviews (drops cached pages). */
  changed: (courseId: string) => Promise<void>;
}) {
  const { db, clock, access, words, posting, prior, changed } = deps;

  async function readable(viewer: Viewer | undefined, reviewId: string): Promise<ReviewRow> {
    const row = await findReview(db, reviewId);
    if (!row || !mayRead(row, viewer)) throw NotFound.review();
    return row;
  }

  /** The review if the viewer wrote it; anyone else's is 404, as if it did not exist. */
  async function own(viewer: Viewer, reviewId: string): Promise<ReviewRow> {
    const row = await findReview(db, reviewId);
    if (!row || row.author_id !== viewer.userId) throw NotFound.review();
    return row;
  }

  async function withMine(viewer: Viewer | undefined, row: ReviewRow): Promise<Review> {
    const mine = viewer ? ((await reviewVotesOf(db, viewer.userId, [row.id])).get(row.id) ?? null) : null;
    const seesAnyReply =
      viewer !== undefined &&
      (row.reply_author_id === viewer.userId || can(viewer.roles, 'community:moderate'));
    return toReview(row, mine, seesAnyReply);
  }

  /**
   * Recount a course's aggregate from its visible reviews: what the subscriber of the module's
   * own review events runs, so a redelivered or reordered event still leaves the right numbers.
   */
  async function recount(trx: Db, courseId: string): Promise<void> {
    // two recounts of one course may overlap (two events, or an event and the nightly job): without
    // the lock the one that counted first could write last and leave a stale aggregate
    await lockCourseRating(trx, courseId);
    const counts = await countRatings(trx, courseId);
    await storeRating(trx, courseId, counts, bayesianAverage(counts.count, counts.sum, prior), clock());
  }

  /** Set or clear the verified mark of a user's review of a course (after a grant or revocation). */
  async function setVerified(
    trx: Transaction<CommunityTables>,
    userId: string,
    courseId: string,
    verified: boolean,
  ): Promise<string | undefined> {
    const rows = await trx
      .updateTable('community.reviews')
      .set({ verified })
      .where('author_id', '=', userId)
      .where('course_id', '=', courseId)
      .where('verified', '<>', verified)
      .returningAll()
      .execute();
    const at = clock().toISOString();
    await enqueue(
      trx,
      'community',
      rows.map((row) =>
        ReviewUpdatedEvent.create(row.id, { ...factsOf(row), change: 'verification', updatedAt: at }),
      ),
    );
    return rows.length > 0 ? courseId : undefined;
  }

  return {
    async create(viewer: Viewer, courseId: string, input: { rating: number; body: string }): Promise<Review> {
      const body = nonBlank(input.body, 'body', CommunityErrors.blankField);
      const course = await access.liveCourse(courseId);
      if (!(await access.owns(viewer.userId, courseId))) throw Refused.reviewPurchase();
      const wait = await posting.take(viewer.userId);
      if (wait !== undefined) throw Refused.tooFast(wait);
      const held = words.firstMatch(body);
      const id = randomUUID();
      const at = clock();
      const status = held === undefined ? 'visible' : 'held';
      await inTransaction(db, async (trx) => {
        const inserted = await insertReview(trx, {
          id,
          course_id: courseId,
          author_id: viewer.userId,
          rating: input.rating,
          body,
          verified: true,
          status,
          at,
        });
        if (!inserted) throw Refused.alreadyReviewed();
        if (held !== undefined) {
          await logAction(trx, {
            type: 'review',
            id,
            action: 'held',
            actorId: null,
            authorId: viewer.userId,
            reason: `word list: ${held}`,
            at,
          });
        }
        await enqueue(trx, 'community', [
          ReviewCreatedEvent.create(id, {
            reviewId: id,
            courseId,
            authorId: viewer.userId,
            rating: input.rating,
            verified: true,
            status,
            createdAt: at.toISOString(),
            ...noticeOf(course),
          }),
        ]);
      });
      await changed(courseId);
      return withMine(viewer, await readable(viewer, id));
    },

    /**
     * A page of the course's visible reviews as its JSON text (`{ data: Review[], nextCursor }`):
     * PostgreSQL writes each review's JSON (see `listVisibleReviews`), this joins them.
     */
    async list(viewer: Viewer | undefined, courseId: string, query: ListQuery): Promise<string> {
      const sort: ReviewSort = query.sort ?? 'newest';
      const limit = query.limit ?? DEFAULT_PAGE_SIZE;
      const rows = await listVisibleReviews(db, courseId, sort, limit, query.cursor, viewer?.userId);
      const page = toPage(
        rows,
        limit,
        (r) => [r.after, r.id],
        (r) => r.review,
        sort,
      );
      return `{"data":[${page.data.join(',')}],"nextCursor":${JSON.stringify(page.nextCursor)}}`;
    },

    get: async (viewer: Viewer | undefined, reviewId: string) =>
      withMine(viewer, await readable(viewer, reviewId)),

    async edit(
      viewer: Viewer,
      reviewId: string,
      input: { rating?: number | undefined; body?: string | undefined },
    ) {
      await own(viewer, reviewId);
      const body =
        input.body === undefined ? undefined : nonBlank(input.body, 'body', CommunityErrors.blankField);
      const held = body === undefined ? undefined : words.firstMatch(body);
      const at = clock();
      const courseId = await inTransaction(db, async (trx) => {
        const current = await lockReview(trx, reviewId);
        if (!current || current.author_id !== viewer.userId) throw NotFound.review();
        const status = current.status === 'visible' && held !== undefined ? 'held' : current.status;
        const row = await updateReview(trx, reviewId, {
          ...(input.rating === undefined ? {} : { rating: input.rating }),
          ...(body === undefined ? {} : { body }),
          status,
          updated_at: at,
        });
        if (status !== current.status) {
          await logAction(trx, {
            type: 'review',
            id: reviewId,
            action: 'held',
            actorId: null,
            authorId: current.author_id,
            reason: `word list: ${held ?? ''}`,
            at,
          });
        }
        await enqueue(trx, 'community', [
          ReviewUpdatedEvent.create(reviewId, {
            ...factsOf(row),
            change: 'edited',
            updatedAt: at.toISOString(),
          }),
        ]);
        return row.course_id;
      });
      await changed(courseId);
      return withMine(viewer, await readable(viewer, reviewId));
    },

    async remove(viewer: Viewer, reviewId: string): Promise<void> {
      await own(viewer, reviewId);
      const at = clock();
      const courseId = await inTransaction(db, async (trx) => {
        const current = await lockReview(trx, reviewId);
        if (!current || current.author_id !== viewer.userId) throw NotFound.review();
        await deleteReview(trx, reviewId);
        await enqueue(trx, 'community', [
          ReviewDeletedEvent.create(reviewId, {
            reviewId,
            courseId: current.course_id,
            authorId: current.author_id,
            by: 'author',
            deletedAt: at.toISOString(),
          }),
        ]);
        return current.course_id;
      });
      await changed(courseId);
    },

    /** The instructor's one public reply; sending it again replaces it. */
    async reply(viewer: Viewer, reviewId: string, input: { body: string }): Promise<Review> {
      const row = await readable(viewer, reviewId);
      const course = await access.liveCourse(row.course_id);
      if (!isInstructorOf(course, viewer.userId)) {
        // a hidden review stays unknown to whoever may not read it; others learn why not
        throw Refused.notInstructor();
      }
      const body = nonBlank(input.body, 'body', CommunityErrors.blankField);
      // the same word list as learners' posts: a match holds the reply for a moderator
      const held = words.firstMatch(body);
      const at = clock();
      await inTransaction(db, async (trx) => {
        const current = await lockReview(trx, reviewId);
        if (!current) throw NotFound.review();
        const updated = await updateReview(trx, reviewId, {
          reply_body: body,
          reply_author_id: viewer.userId,
          reply_status: held === undefined ? 'visible' : 'held',
          replied_at: at,
        });
        if (held !== undefined) {
          await logAction(trx, {
            type: 'review',
            id: reviewId,
            part: 'reply',
            action: 'held',
            actorId: null,
            authorId: viewer.userId,
            reason: `reply, word list: ${held}`,
            at,
          });
        }
        await enqueue(trx, 'community', [
          ReviewUpdatedEvent.create(reviewId, {
            ...factsOf(updated),
            change: 'replied',
            updatedAt: at.toISOString(),
          }),
        ]);
      });
      await changed(row.course_id);
      return withMine(viewer, await readable(viewer, reviewId));
    },

    readable,

    /** The course's rating aggregate (zeros when it has no visible review). */
    async rating(courseId: string): Promise<CourseRating> {
      const [row] = await findRatings(db, [courseId]);
      return toRating(courseId, row, prior);
    },

    async ratings(query: {
      limit?: number | undefined;
      cursor?: string | undefined;
    }): Promise<Page<CourseRating>> {
      const limit = query.limit ?? 20;
      const rows = await listByBayesian(db, limit, query.cursor);
      return toPage(
        rows,
        limit,
        (r) => [r.bayesian, r.course_id],
        (r) => toRating(r.course_id, r, prior),
        'bayesian',
      );
    },

    /**
     * Recount every course whose aggregate drifted from its visible reviews or was computed with
     * another prior, each in a short transaction of its own; answers how many. Idempotent.
     */
    async recountAll(): Promise<number> {
      const courseIds = await driftedRatings(db, prior);
      for (const courseId of courseIds) {
        await inTransaction(db, (trx) => recount(trx, courseId));
      }
      return courseIds.length;
    },

    /**
     * The verified mark of the user's review of the course, set to learning's answer now (the
     * `community.verify-purchase` job, after a grant or a revocation). Learning is asked before
     * the transaction opens.
     */
    async verify(userId: string, courseId: string): Promise<void> {
      // two jobs of one review may run at once (one sent while the other ran), each with the
      // answer of its moment: whoever writes last asks again after writing, so the last write
      // stands only if it is still learning's answer
      let owns = await access.owns(userId, courseId);
      for (let round = 0; round < 5; round++) {
        const mark = owns;
        const changedCourse = await inTransaction(db, (trx) => setVerified(trx, userId, courseId, mark));
        if (changedCourse) await changed(courseId);
        owns = await access.owns(userId, courseId);
        if (owns === mark) return;
      }
    },

    recount,
    setVerified,
  };
}

export type ReviewsService = ReturnType<typeof createReviewsService>;

export function toRating(
  courseId: string,
  row:
    | {
        count: number;
        sum: number;
        r1: number;
        r2: number;
        r3: number;
        r4: number;
        r5: number;
        bayesian: number;
      }
    | undefined,
  prior: Prior,
): CourseRating {
  const count = row?.count ?? 0;
  return {
    courseId,
    count,
    mean: row && count > 0 ? row.sum / count : null,
    bayesian: row?.bayesian ?? prior.mean,
    distribution: {
      '1': row?.r1 ?? 0,
      '2': row?.r2 ?? 0,
      '3': row?.r3 ?? 0,
      '4': row?.r4 ?? 0,
      '5': row?.r5 ?? 0,
    },
  };
}
