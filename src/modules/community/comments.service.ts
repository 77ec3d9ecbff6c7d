import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { type Page, toPage } from '../../platform/http/pagination.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { type Access, type NoticeFacts, noticeOf, type Viewer } from './access.service.js';
import { CommunityErrors, NotFound, Refused } from './community.errors.js';
import { CommentCreatedEvent, CommentEditedEvent, CommentRepliedEvent } from './community.events.js';
import type { ListQuery } from './community.schemas.js';
import {
  type CommentRow,
  commentVotesOf,
  deleteComment,
  deleteEmptyTombstone,
  findComment,
  hasAnyComment,
  hasReplies,
  insertComment,
  insertMentions,
  listTopLevel,
  lockComment,
  membersByNameKey,
  mentionsOf,
  replaceMentions,
  tombstoneComment,
  visibleReplies,
} from './comments.queries.js';
import type { Comment, Thread } from './comments.schemas.js';
import { logAction, resolveReports } from './moderation.queries.js';
import { can } from './permissions.js';
import type { WindowLimit } from '../../platform/cache/window-limit.js';
import { cursorOf, type ReviewSort } from './reviews.queries.js';
import type { SensitiveWords } from './moderation.service.js';
import type { CommunityTables } from './tables.js';
import { excerpt, matchForm, nonBlank } from '../../platform/text.js';

type Db = Kysely<CommunityTables>;

const iso = (d: Date | string) => new Date(d).toISOString();

/** `@name` up to the next space or punctuation that a display name would not hold. */
const MENTION = /@([\p{L}\p{N}_.-]{1,64})/gu;

export function toComment(row: CommentRow, mine: boolean | null, mentions: string[]): Comment {
  if (row.deleted_at !== null) {
    return {
      id: row.id,
      lessonId: row.lesson_id,
      parentId: row.parent_id,
      author: null,
      body: '',
      deleted: true,
      instructorAnswer: false,
      status: row.status,
      votes: { helpful: 0, unhelpful: 0, score: 0, mine: null },
      mentions: [],
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
  }
  return {
    id: row.id,
    lessonId: row.lesson_id,
    parentId: row.parent_id,
    author: { id: row.author_id, displayName: row.author_name },
    body: row.body,
    deleted: false,
    instructorAnswer: row.by_instructor,
    status: row.status,
    votes: { helpful: row.up_votes, unhelpful: row.down_votes, score: row.wilson, mine },
    mentions,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

export function createCommentsService(deps: {
  db: Db;
  clock: Clock;
  access: Access;
  words: SensitiveWords;
  /** Reviews, comments and reports share one budget per user (429 past it). */
  posting: WindowLimit;
}) {
  const { db, clock, access, words, posting } = deps;

  /** User ids named with @name, against the members copy; a name two members share names nobody. */
  async function resolveMentions(body: string, authorId: string): Promise<string[]> {
    const keys = [...new Set([...body.matchAll(MENTION)].map((m) => matchForm(m[1] ?? '')))].slice(0, 20);
    const found = await membersByNameKey(db, keys);
    const byKey = new Map<string, string[]>();
    for (const m of found) byKey.set(m.name_key, [...(byKey.get(m.name_key) ?? []), m.user_id]);
    return [...byKey.values()]
      .filter((ids) => ids.length === 1)
      .flat()
      .filter((id) => id !== authorId);
  }

  async function view(viewer: Viewer | undefined, row: CommentRow): Promise<Comment> {
    const mine = viewer ? ((await commentVotesOf(db, viewer.userId, [row.id])).get(row.id) ?? null) : null;
    return toComment(row, mine, (await mentionsOf(db, [row.id])).get(row.id) ?? []);
  }

  const mayRead = (row: CommentRow, viewer: Viewer | undefined) =>
    row.status === 'visible' ||
    (viewer !== undefined && (row.author_id === viewer.userId || can(viewer.roles, 'community:moderate')));

  /** The viewer's own comment; anyone else's, and a tombstone, is 404. */
  async function own(viewer: Viewer, commentId: string): Promise<CommentRow> {
    const row = await findComment(db, commentId);
    if (!row || row.author_id !== viewer.userId || row.deleted_at !== null) throw NotFound.comment();
    return row;
  }

  return {
    async create(viewer: Viewer, lessonId: string, input: { body: string; parentId?: string | undefined }) {
      const body = nonBlank(input.body, 'body', CommunityErrors.blankField);
      const { lesson, course, via } = await access.lesson(viewer, lessonId);
      let parent: CommentRow | undefined;
      if (input.parentId !== undefined) {
        parent = await findComment(db, input.parentId);
        if (
          !parent ||
          parent.lesson_id !== lessonId ||
          parent.deleted_at !== null ||
          !mayRead(parent, viewer)
        ) {
          throw NotFound.comment();
        }
        if (parent.parent_id !== null) throw Refused.replyToReply();
      }
      const wait = await posting.take(viewer.userId);
      if (wait !== undefined) throw Refused.tooFast(wait);
      const mentioned = await resolveMentions(body, viewer.userId);
      const held = words.firstMatch(body);
      const status = held === undefined ? 'visible' : 'held';
      const at = clock();
      const id = randomUUID();
      const byInstructor = via === 'instructor';
      const notice = noticeOf(course, lesson);
      await inTransaction(db, async (trx) => {
        await insertComment(trx, {
          id,
          lesson_id: lessonId,
          course_id: course.id,
          parent_id: parent?.id ?? null,
          author_id: viewer.userId,
          body,
          by_instructor: byInstructor,
          status,
          created_at: at,
          updated_at: at,
          first_visible_at: status === 'visible' ? at : null,
        });
        await insertMentions(trx, id, mentioned);
        if (held !== undefined) {
          await logAction(trx, {
            type: 'comment',
            id,
            action: 'held',
            actorId: null,
            authorId: viewer.userId,
            reason: `word list: ${held}`,
            at,
          });
        }
        const events: Parameters<typeof enqueue>[2] = [
          CommentCreatedEvent.create(id, {
            commentId: id,
            lessonId,
            courseId: course.id,
            parentId: parent?.id ?? null,
            parentAuthorId: parent?.author_id ?? null,
            authorId: viewer.userId,
            byInstructor,
            status,
            mentionedUserIds: mentioned,
            createdAt: at.toISOString(),
            ...notice,
          }),
        ];
        if (parent && status === 'visible' && parent.author_id !== viewer.userId) {
          events.push(
            repliedEvent(
              { id, lessonId, courseId: course.id, authorId: viewer.userId, byInstructor, body, at },
              parent,
              notice,
            ),
          );
        }
        await enqueue(trx, 'community', events);
      });
      const row = await findComment(db, id);
      if (!row) throw NotFound.comment();
      return view(viewer, row);
    },

    /** Whether any comment exists (the demo seed runs only on an empty module). */
    hasAny: () => hasAnyComment(db),

    async list(viewer: Viewer | undefined, lessonId: string, query: ListQuery): Promise<Page<Thread>> {
      await access.lesson(viewer, lessonId);
      const sort: ReviewSort = query.sort ?? 'newest';
      const limit = query.limit ?? 20;
      const rows = await listTopLevel(db, lessonId, sort, limit, query.cursor);
      const kept = rows.slice(0, limit);
      const replies = await visibleReplies(
        db,
        kept.map((r) => r.id),
      );
      const ids = [...kept, ...replies].map((r) => r.id);
      const mine = viewer ? await commentVotesOf(db, viewer.userId, ids) : new Map<string, boolean>();
      const mentions = await mentionsOf(db, ids);
      const shape = (r: CommentRow) => toComment(r, mine.get(r.id) ?? null, mentions.get(r.id) ?? []);
      return toPage(
        rows,
        limit,
        cursorOf(sort),
        (r) => ({ ...shape(r), replies: replies.filter((x) => x.parent_id === r.id).map(shape) }),
        sort,
      );
    },

    async get(viewer: Viewer | undefined, commentId: string): Promise<Comment> {
      const row = await findComment(db, commentId);
      if (!row || !mayRead(row, viewer)) throw NotFound.comment();
      return view(viewer, row);
    },

    async edit(viewer: Viewer, commentId: string, input: { body: string }): Promise<Comment> {
      const before = await own(viewer, commentId);
      const body = nonBlank(input.body, 'body', CommunityErrors.blankField);
      const held = words.firstMatch(body);
      const mentioned = await resolveMentions(body, viewer.userId);
      // an edit that names someone new sends notices as a new comment does, so it spends the same
      // posting budget: else editing one comment in a loop would notify anyone, twenty at a time
      if (mentioned.length > 0) {
        const named = new Set((await mentionsOf(db, [commentId])).get(commentId) ?? []);
        if (mentioned.some((id) => !named.has(id))) {
          const wait = await posting.take(viewer.userId);
          if (wait !== undefined) throw Refused.tooFast(wait);
        }
      }
      // only a text that names someone can name someone new, whom notify tells with the titles
      const notice = mentioned.length > 0 ? await access.notice(before.course_id, before.lesson_id) : {};
      const at = clock();
      await inTransaction(db, async (trx) => {
        const current = await lockComment(trx, commentId);
        if (!current || current.author_id !== viewer.userId || current.deleted_at !== null) {
          throw NotFound.comment();
        }
        const status = current.status === 'visible' && held !== undefined ? 'held' : current.status;
        await trx
          .updateTable('community.comments')
          .set({ body, status, updated_at: at })
          .where('id', '=', commentId)
          .execute();
        const { added, removed } = await replaceMentions(trx, commentId, mentioned);
        if (status !== current.status) {
          await logAction(trx, {
            type: 'comment',
            id: commentId,
            action: 'held',
            actorId: null,
            authorId: current.author_id,
            reason: `word list: ${held ?? ''}`,
            at,
          });
        }
        const parent = current.parent_id === null ? undefined : await findComment(trx, current.parent_id);
        await enqueue(trx, 'community', [
          CommentEditedEvent.create(commentId, {
            commentId,
            lessonId: current.lesson_id,
            courseId: current.course_id,
            parentId: current.parent_id,
            parentAuthorId: parent?.author_id ?? null,
            authorId: current.author_id,
            byInstructor: current.by_instructor,
            status,
            mentionedUserIds: mentioned,
            addedMentionIds: added,
            removedMentionIds: removed,
            ...notice,
            editedAt: at.toISOString(),
          }),
        ]);
      });
      return view(viewer, await own(viewer, commentId));
    },

    /**
     * The author deletes their comment: with replies it stays as a tombstone, else it goes (see
     * `removeComment`).
     */
    async remove(viewer: Viewer, commentId: string): Promise<void> {
      await own(viewer, commentId);
      const at = clock();
      await inTransaction(db, async (trx) => {
        const current = await lockComment(trx, commentId);
        if (!current || current.author_id !== viewer.userId || current.deleted_at !== null) {
          throw NotFound.comment();
        }
        await removeComment(trx, current, at);
      });
    },
  };
}

/**
 * Delete a comment (locked by the caller) as readers of the thread expect: one with replies (of
 * any status) becomes a tombstone (no text, author or mentions shown, its votes removed, open
 * reports resolved) so its replies keep their thread; one without replies is deleted with its
 * votes and mentions; and a tombstone whose last reply goes is deleted too.
 */
export async function removeComment(
  trx: Kysely<CommunityTables>,
  row: { id: string; parent_id: string | null },
  at: Date,
): Promise<'tombstone' | 'deleted'> {
  if (await hasReplies(trx, row.id)) {
    await tombstoneComment(trx, row.id, at);
    await resolveReports(trx, 'comment', row.id, at);
    return 'tombstone';
  }
  await deleteComment(trx, row.id);
  if (row.parent_id !== null) await deleteEmptyTombstone(trx, row.parent_id);
  return 'deleted';
}

/** The "reply to your comment" event of a visible reply. */
export function repliedEvent(
  reply: {
    id: string;
    lessonId: string;
    courseId: string;
    authorId: string;
    byInstructor: boolean;
    body: string;
    at: Date;
  },
  parent: { id: string; author_id: string },
  titles: Pick<NoticeFacts, 'courseTitle' | 'lessonTitle'>,
) {
  return CommentRepliedEvent.create(reply.id, {
    commentId: reply.id,
    parentId: parent.id,
    parentAuthorId: parent.author_id,
    lessonId: reply.lessonId,
    courseId: reply.courseId,
    authorId: reply.authorId,
    byInstructor: reply.byInstructor,
    excerpt: excerpt(reply.body),
    repliedAt: reply.at.toISOString(),
    ...(titles.courseTitle === undefined ? {} : { courseTitle: titles.courseTitle }),
    ...(titles.lessonTitle === undefined ? {} : { lessonTitle: titles.lessonTitle }),
  });
}

export type CommentsService = ReturnType<typeof createCommentsService>;
