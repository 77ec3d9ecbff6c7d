import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import AhoCorasick from 'modern-ahocorasick';
import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { decodeCursor, type Page, toPage } from '../../platform/http/pagination.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { NoticeFacts, Viewer } from './access.service.js';
import { CommunityErrors, NotFound, Refused } from './community.errors.js';
import { CommentApprovedEvent, ReviewDeletedEvent, ReviewUpdatedEvent } from './community.events.js';
import { findComment, mentionsOf } from './comments.queries.js';
import { removeComment, repliedEvent } from './comments.service.js';
import { factsOf } from './reviews.service.js';
import {
  auditTrail,
  insertReport,
  logAction,
  moderationQueue,
  resolveReports,
} from './moderation.queries.js';
import { can } from './permissions.js';
import type { WindowLimit } from '../../platform/cache/window-limit.js';
import type { CommentTable, CommunityTables, ItemStatus, ReviewTable, SubjectType } from './tables.js';
import { matchForm, nonBlank } from '../../platform/text.js';
import { SENSITIVE_WORDS_EN, SENSITIVE_WORDS_ZH } from './sensitive-words.data.js';

type Db = Kysely<CommunityTables>;

export interface SensitiveWords {
  /** The first listed word the text contains (after normalising both), or undefined. */
  firstMatch(text: string): string | undefined;
  size: number;
}

/** Words from a file of one word per line; blank lines and `#` comments are skipped. */
export function readWordFile(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith('#'));
}

/**
 * One Aho–Corasick automaton over every list, so a text is scanned once whatever the number of
 * words. Both the words and the text go through `matchForm`, so "ＦＲＥＥ Crypto" (full-width letters) finds "free crypto".
 */
export function createSensitiveWords(extra: readonly string[] = []): SensitiveWords {
  const words = [...new Set([...SENSITIVE_WORDS_ZH, ...SENSITIVE_WORDS_EN, ...extra].map(matchForm))].filter(
    (w) => w.length > 0,
  );
  const matcher = new AhoCorasick(words);
  return {
    size: words.length,
    firstMatch: (text) => matcher.findFirst(matchForm(text))?.pattern,
  };
}
export type Decision = 'approve' | 'hide' | 'delete';

const notFound = (type: SubjectType) => (type === 'review' ? NotFound.review() : NotFound.comment());

/**
 * What a held comment a moderator lets out announces, as `create` would have: the approval (its
 * mentions, the course's instructors, the titles) and, for a reply to someone else, the reply.
 */
async function releasedComment(
  trx: Db,
  row: Selectable<CommentTable>,
  notice: NoticeFacts,
  at: Date,
): Promise<Parameters<typeof enqueue>[2]> {
  const parent = row.parent_id === null ? undefined : await findComment(trx, row.parent_id);
  const events: Parameters<typeof enqueue>[2] = [
    CommentApprovedEvent.create(row.id, {
      commentId: row.id,
      lessonId: row.lesson_id,
      courseId: row.course_id,
      parentId: row.parent_id,
      parentAuthorId: parent?.author_id ?? null,
      authorId: row.author_id,
      byInstructor: row.by_instructor,
      mentionedUserIds: (await mentionsOf(trx, [row.id])).get(row.id) ?? [],
      ...notice,
      approvedAt: at.toISOString(),
    }),
  ];
  if (parent && parent.author_id !== row.author_id) {
    events.push(
      repliedEvent(
        {
          id: row.id,
          lessonId: row.lesson_id,
          courseId: row.course_id,
          authorId: row.author_id,
          byInstructor: row.by_instructor,
          body: row.body,
          at,
        },
        parent,
        notice,
      ),
    );
  }
  return events;
}

/**
 * Whether a moderator's approval announces the item, as its creation would have if it had been
 * visible: a held one (the word list caught it when written, or an edit did: notify keys these
 * notices by the item, so whom the first announcement told is not told again), and a hidden one
 * readers never saw (held when written, hidden before anyone let it out). An item hidden after
 * being shown was announced then and announces nothing again.
 */
const announcesOnApproval = (row: Selectable<CommentTable> | Selectable<ReviewTable>) =>
  row.status === 'held' || (row.status === 'hidden' && row.first_visible_at === null);

/** The status a decision writes, and when readers first saw the item if this is that moment. */
const statusChange = (row: { first_visible_at: Date | null }, status: ItemStatus, at: Date) =>
  status === 'visible' && row.first_visible_at === null ? { status, first_visible_at: at } : { status };

/**
 * Reports from users, and the moderators' decisions: approve (visible again, reports resolved),
 * hide (invisible to all but the author and moderators), delete. Every step is written to the
 * moderation log in the transaction that takes it.
 */
export function createModerationService(deps: {
  db: Db;
  clock: Clock;
  /** Reviews, comments and reports share one budget per user (429 past it). */
  posting: WindowLimit;
  /** After the commit: the public lists of this review's course or comment's lesson changed. */
  changed: (type: SubjectType, key: string) => Promise<void>;
  /** The course's team and titles, and the lesson's title when given (asked of the catalog). */
  notice: (courseId: string, lessonId?: string) => Promise<NoticeFacts>;
}) {
  const { db, clock, posting, changed, notice } = deps;

  async function subject(trx: Db, type: SubjectType, id: string, lock: boolean) {
    const q =
      type === 'review'
        ? trx.selectFrom('community.reviews').selectAll().where('id', '=', id)
        : // a tombstone is no longer a subject: nothing is left to report or decide on
          trx
            .selectFrom('community.comments')
            .selectAll()
            .where('id', '=', id)
            .where('deleted_at', 'is', null);
    const row = await (lock ? q.forUpdate() : q).executeTakeFirst();
    return row;
  }

  /**
   * A moderator's decision on the instructor's reply of a review, not on the review: approve
   * shows it, hide takes it from readers, delete removes it.
   */
  async function decideReply(moderator: Viewer, id: string, action: Decision, reason: string, at: Date) {
    const courseId = await inTransaction(db, async (trx) => {
      const row = await trx
        .selectFrom('community.reviews')
        .selectAll()
        .where('id', '=', id)
        .forUpdate()
        .executeTakeFirst();
      if (!row || row.reply_status === null) throw NotFound.review();
      const updated = await trx
        .updateTable('community.reviews')
        .set(
          action === 'delete'
            ? { reply_body: null, reply_author_id: null, reply_status: null, replied_at: null }
            : { reply_status: action === 'approve' ? 'visible' : 'hidden' },
        )
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const logged = action === 'approve' ? 'approved' : action === 'hide' ? 'hidden' : 'deleted';
      await logAction(trx, {
        type: 'review',
        id,
        part: 'reply',
        action: logged,
        actorId: moderator.userId,
        // the reply as it was decided on: a delete takes its author off the review
        authorId: row.reply_author_id,
        reason: `reply: ${reason}`,
        at,
      });
      await enqueue(trx, 'community', [
        ReviewUpdatedEvent.create(id, {
          ...factsOf(updated),
          change: 'moderated',
          updatedAt: at.toISOString(),
        }),
      ]);
      return updated.course_id;
    });
    await changed('review', courseId);
    return {
      subjectType: 'review' as const,
      id,
      status: action === 'delete' ? ('deleted' as const) : action === 'approve' ? 'visible' : 'hidden',
    };
  }

  return {
    /** A user flags a review or comment they can see; reporting twice counts once. */
    async report(viewer: Viewer, type: SubjectType, id: string, input: { reason: string }) {
      const reason = nonBlank(input.reason, 'reason', CommunityErrors.blankField);
      const row = await subject(db, type, id, false);
      const readable =
        row &&
        (row.status === 'visible' ||
          row.author_id === viewer.userId ||
          can(viewer.roles, 'community:moderate'));
      if (!row || !readable) throw notFound(type);
      const wait = await posting.take(viewer.userId);
      if (wait !== undefined) throw Refused.tooFast(wait);
      const at = clock();
      const reported = await inTransaction(db, async (trx) => {
        const fresh = await insertReport(trx, {
          id: randomUUID(),
          type,
          subjectId: id,
          reporterId: viewer.userId,
          reason,
          at,
        });
        if (fresh) {
          await logAction(trx, {
            type,
            id,
            action: 'reported',
            actorId: viewer.userId,
            authorId: row.author_id,
            reason,
            at,
          });
        }
        return fresh;
      });
      return { reported, subjectId: id };
    },

    async queue(query: {
      limit?: number | undefined;
      cursor?: string | undefined;
    }): Promise<Page<QueueItem>> {
      const limit = query.limit ?? 20;
      const after = query.cursor ? decodeCursor(query.cursor, ['date-time', 'uuid'], 'queue') : undefined;
      const rows = await moderationQueue(db, limit, after as [string, string] | undefined);
      return toPage(
        rows,
        limit,
        (r) => [new Date(r.created_at).toISOString(), r.id],
        (r) => ({
          subjectType: r.subject_type,
          id: r.id,
          status: r.status,
          authorId: r.author_id,
          courseId: r.course_id,
          body: r.body,
          openReports: Number(r.open_reports),
          reportReasons: r.reasons ?? [],
          heldReply: r.held_reply,
          createdAt: new Date(r.created_at).toISOString(),
        }),
        'queue',
      );
    },

    async decide(
      moderator: Viewer,
      type: SubjectType,
      id: string,
      input: { action: Decision; reason: string; part?: 'item' | 'reply' | undefined },
    ) {
      const reason = nonBlank(input.reason, 'reason', CommunityErrors.blankField);
      const at = clock();
      if (input.part === 'reply') {
        if (type !== 'review') throw Refused.replyOfComment();
        return decideReply(moderator, id, input.action, reason, at);
      }
      // letting a held item out (or a comment never shown) tells the course's instructors and
      // names the course (and lesson): asked before the transaction opens
      const before = input.action === 'approve' ? await subject(db, type, id, false) : undefined;
      const released =
        before && announcesOnApproval(before)
          ? await notice(before.course_id, 'lesson_id' in before ? before.lesson_id : undefined)
          : {};
      const result = await inTransaction(db, async (trx) => {
        const row = await subject(trx, type, id, true);
        if (!row) throw notFound(type);
        const key = 'lesson_id' in row ? row.lesson_id : row.course_id;
        await resolveReports(trx, type, id, at);
        if (input.action === 'delete') {
          await logAction(trx, {
            type,
            id,
            action: 'deleted',
            actorId: moderator.userId,
            authorId: row.author_id,
            reason,
            at,
          });
          if (type === 'review') {
            await trx.deleteFrom('community.reviews').where('id', '=', id).execute();
            await enqueue(trx, 'community', [
              ReviewDeletedEvent.create(id, {
                reviewId: id,
                courseId: row.course_id,
                authorId: row.author_id,
                by: 'moderator',
                deletedAt: at.toISOString(),
              }),
            ]);
          } else if ('lesson_id' in row) {
            await removeComment(trx, row, at);
          }
          return { key, status: null };
        }
        const status: ItemStatus = input.action === 'approve' ? 'visible' : 'hidden';
        await logAction(trx, {
          type,
          id,
          action: input.action === 'approve' ? 'approved' : 'hidden',
          actorId: moderator.userId,
          authorId: row.author_id,
          reason,
          at,
        });
        if (type === 'review' && 'rating' in row) {
          const updated = await trx
            .updateTable('community.reviews')
            .set(statusChange(row, status, at))
            .where('id', '=', id)
            .returningAll()
            .executeTakeFirstOrThrow();
          const { instructorIds, courseTitle } = released;
          await enqueue(trx, 'community', [
            ReviewUpdatedEvent.create(id, {
              ...factsOf(updated),
              change: 'moderated',
              updatedAt: at.toISOString(),
              previousStatus: row.status,
              ...(announcesOnApproval(row) && status === 'visible' && instructorIds
                ? { instructorIds, courseTitle }
                : {}),
            }),
          ]);
        } else if ('lesson_id' in row) {
          await trx
            .updateTable('community.comments')
            .set(statusChange(row, status, at))
            .where('id', '=', id)
            .execute();
          if (status === 'visible' && announcesOnApproval(row)) {
            await enqueue(trx, 'community', await releasedComment(trx, row, released, at));
          }
        }
        return { key, status };
      });
      await changed(type, result.key);
      return { subjectType: type, id, status: result.status ?? 'deleted' };
    },

    async audit(subjectId: string) {
      const rows = await auditTrail(db, subjectId);
      return {
        data: rows.map((r) => ({
          subjectType: r.subject_type,
          subjectId: r.subject_id,
          part: r.part,
          action: r.action,
          actorId: r.actor_id,
          authorId: r.author_id,
          reason: r.reason,
          at: new Date(r.at).toISOString(),
        })),
      };
    },
  };
}

export interface QueueItem {
  subjectType: SubjectType;
  id: string;
  status: ItemStatus;
  authorId: string;
  courseId: string;
  body: string;
  openReports: number;
  reportReasons: string[];
  heldReply: string | null;
  createdAt: string;
}

export type ModerationService = ReturnType<typeof createModerationService>;
