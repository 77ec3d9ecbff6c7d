import { type Static, Type } from 'typebox';
import { defineEvent } from '../../platform/messaging/events.js';

/**
 * Events the community module publishes, each declared once with its schema; every `data` shape
 * below is version 1. Statuses are every status an item can have, so no change of state can
 * produce an event its own schema refuses.
 */

const Id = Type.String({ minLength: 1 });
const DateTime = Type.String({ format: 'date-time' });
const Status = Type.Union([Type.Literal('visible'), Type.Literal('held'), Type.Literal('hidden')]);
/**
 * The course's owner and instructors as community read them for the change, owner first, each
 * once (notify tells them). Optional: events written before it was added still validate.
 */
const InstructorIds = Type.Optional(Type.Array(Id));
/**
 * The course's or lesson's title as the catalog had it when community read it for the change (so
 * notices name it, not its id). Optional: absent in events written before it was added, and where
 * the catalog no longer knew the course or lesson.
 */
const Title = Type.Optional(Type.String());

const ReviewFacts = {
  reviewId: Id,
  courseId: Id,
  authorId: Id,
  rating: Type.Integer({ minimum: 1, maximum: 5 }),
  verified: Type.Boolean(),
  status: Status,
};

export const ReviewCreatedEvent = defineEvent({
  type: 'community.review.created',
  version: 1,
  schema: Type.Object({
    ...ReviewFacts,
    createdAt: DateTime,
    instructorIds: InstructorIds,
    courseTitle: Title,
  }),
});
export type ReviewCreated = Static<typeof ReviewCreatedEvent.schema>;

export const ReviewUpdatedEvent = defineEvent({
  type: 'community.review.updated',
  version: 1,
  schema: Type.Object({
    ...ReviewFacts,
    /** What changed: the author's edit, the instructor's reply, a moderator, or the verified mark. */
    change: Type.Union([
      Type.Literal('edited'),
      Type.Literal('replied'),
      Type.Literal('moderated'),
      Type.Literal('verification'),
    ]),
    updatedAt: DateTime,
    /** On a moderator's decision on the review itself: its status before the decision. */
    previousStatus: Type.Optional(Status),
    /**
     * When a moderator's approval announces the review (`status` visible): it was held, or hidden
     * before readers ever saw it. Notify tells the course's team then, and only then.
     */
    instructorIds: InstructorIds,
    /** With `instructorIds` only. */
    courseTitle: Title,
  }),
});
export type ReviewUpdated = Static<typeof ReviewUpdatedEvent.schema>;

export const ReviewDeletedEvent = defineEvent({
  type: 'community.review.deleted',
  version: 1,
  schema: Type.Object({
    reviewId: Id,
    courseId: Id,
    authorId: Id,
    /** Who deleted it: the author, or a moderator. */
    by: Type.Union([Type.Literal('author'), Type.Literal('moderator')]),
    deletedAt: DateTime,
  }),
});
export type ReviewDeleted = Static<typeof ReviewDeletedEvent.schema>;

/** What every comment event says of the comment. */
const CommentFacts = {
  commentId: Id,
  lessonId: Id,
  courseId: Id,
  parentId: Type.Union([Id, Type.Null()]),
  authorId: Id,
  byInstructor: Type.Boolean(),
};

/** Whom a notice of the comment may tell and what it names, read from the catalog for the change. */
const CommentNotice = {
  instructorIds: InstructorIds,
  courseTitle: Title,
  lessonTitle: Title,
};

export const CommentCreatedEvent = defineEvent({
  type: 'community.comment.created',
  version: 1,
  schema: Type.Object({
    ...CommentFacts,
    /**
     * The author of the comment replied to (null for a top-level comment), who hears of the reply
     * by `community.comment.replied`. Optional: absent in events written before it was added.
     */
    parentAuthorId: Type.Optional(Type.Union([Id, Type.Null()])),
    status: Status,
    /** Users named with @name in the text, resolved to ids (notify may tell them). */
    mentionedUserIds: Type.Array(Id),
    createdAt: DateTime,
    ...CommentNotice,
  }),
});
export type CommentCreated = Static<typeof CommentCreatedEvent.schema>;

/**
 * A moderator let a held comment out: it is visible now, and whom `created` did not announce
 * (its mentions, the course's instructors) may hear of it.
 */
export const CommentApprovedEvent = defineEvent({
  type: 'community.comment.approved',
  version: 1,
  schema: Type.Object({
    ...CommentFacts,
    parentAuthorId: Type.Union([Id, Type.Null()]),
    mentionedUserIds: Type.Array(Id),
    /** The notice fields are absent when the catalog no longer knew the course. */
    ...CommentNotice,
    approvedAt: DateTime,
  }),
});
export type CommentApproved = Static<typeof CommentApprovedEvent.schema>;

/**
 * The author edited a comment: its text (not in the event), its status after the edit (a listed
 * word holds a visible one) and its mentions, resolved again from the new text. Whom it names
 * for the first time (`addedMentionIds`) notify may tell while it is visible; a held one announces
 * its mentions when a moderator lets it out (`comment.approved`).
 */
export const CommentEditedEvent = defineEvent({
  type: 'community.comment.edited',
  version: 1,
  schema: Type.Object({
    ...CommentFacts,
    /** The author of the comment replied to (null for a top-level comment). */
    parentAuthorId: Type.Union([Id, Type.Null()]),
    status: Status,
    /** Everyone the comment names after the edit. */
    mentionedUserIds: Type.Array(Id),
    /** Named now and not before this edit. */
    addedMentionIds: Type.Array(Id),
    /** Named before this edit and not now. */
    removedMentionIds: Type.Array(Id),
    /** Present when the new text names anyone (absent when the catalog no longer knew the course). */
    ...CommentNotice,
    editedAt: DateTime,
  }),
});
export type CommentEdited = Static<typeof CommentEditedEvent.schema>;

/** A visible reply to someone's comment (a held reply announces itself when approved). */
export const CommentRepliedEvent = defineEvent({
  type: 'community.comment.replied',
  version: 1,
  schema: Type.Object({
    commentId: Id,
    parentId: Id,
    /** The author of the comment replied to: who "reply to your comment" goes to. */
    parentAuthorId: Id,
    lessonId: Id,
    courseId: Id,
    authorId: Id,
    byInstructor: Type.Boolean(),
    /** The start of the reply (at most 200 graphemes), plain text. */
    excerpt: Type.String(),
    repliedAt: DateTime,
    courseTitle: Title,
    lessonTitle: Title,
  }),
});
export type CommentReplied = Static<typeof CommentRepliedEvent.schema>;

export const CommunityEvents = [
  ReviewCreatedEvent,
  ReviewUpdatedEvent,
  ReviewDeletedEvent,
  CommentCreatedEvent,
  CommentApprovedEvent,
  CommentEditedEvent,
  CommentRepliedEvent,
] as const;
