import { type Static, Type } from 'typebox';
import { defineEvent } from '../../platform/messaging/events.js';

/**
 * Events the catalog publishes, each declared once with its schema; every `data` shape below is
 * version 1. Publishers build them with `<Event>.create(id, data)`, which the outbox checks.
 *
 * A field added to a published shape is optional and the version stays: consumers dead-letter a
 * version they do not declare, so a version 2 would be refused by every consumer not yet
 * redeployed, while an extra field passes their version 1 schema (objects admit more properties)
 * and a new consumer reads its absence, in an event written before, as "not told".
 */

const Id = Type.String({ minLength: 1 });
const DateTime = Type.String({ format: 'date-time' });
const PriceAmount = Type.Integer({ minimum: 0 });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const CourseStatus = Type.Union([
  Type.Literal('draft'),
  Type.Literal('in_review'),
  Type.Literal('published'),
  Type.Literal('archived'),
]);

export const CategoryCreatedEvent = defineEvent({
  type: 'catalog.category.created',
  version: 1,
  schema: Type.Object({
    id: Id,
    slug: Type.String(),
    name: Type.String(),
    parentId: Type.Union([Id, Type.Null()]),
  }),
});
export type CategoryCreated = Static<typeof CategoryCreatedEvent.schema>;

/** An admin changed a category (name, slug, parent or position): its fields as they are now, for copies of its name. */
export const CategoryUpdatedEvent = defineEvent({
  type: 'catalog.category.updated',
  version: 1,
  schema: CategoryCreatedEvent.schema,
});
export type CategoryUpdated = Static<typeof CategoryUpdatedEvent.schema>;

export const CourseSubmittedEvent = defineEvent({
  type: 'catalog.course.submitted',
  version: 1,
  schema: Type.Object({ courseId: Id, ownerId: Id, title: Type.String() }),
});
export type CourseSubmitted = Static<typeof CourseSubmittedEvent.schema>;

export const CourseRejectedEvent = defineEvent({
  type: 'catalog.course.rejected',
  version: 1,
  schema: Type.Object({ courseId: Id, ownerId: Id, title: Type.String(), reason: Type.String() }),
});
export type CourseRejected = Static<typeof CourseRejectedEvent.schema>;

/** The category of a course as the event tells it: name and slug beside the id, for copies' texts. */
const CourseCategory = Type.Union([
  Type.Object({ id: Id, slug: Type.String(), name: Type.String() }),
  Type.Null(),
]);

/**
 * What a course is about, added to `course.published` and `course.updated` so consumers keep a copy
 * without asking the catalog: its title, its category (null: none) and its tags (names, sorted).
 * Optional because events written before they were added lack them.
 */
const CourseFacts = {
  categoryId: Type.Optional(Type.Union([Id, Type.Null()])),
  category: Type.Optional(CourseCategory),
  tags: Type.Optional(Type.Array(Type.String())),
};

export const CoursePublishedEvent = defineEvent({
  type: 'catalog.course.published',
  version: 1,
  schema: Type.Object({
    courseId: Id,
    ownerId: Id,
    instructorIds: Type.Array(Id),
    title: Type.String(),
    priceAmount: PriceAmount,
    currency: Currency,
    publishedAt: DateTime,
    ...CourseFacts,
  }),
});
export type CoursePublished = Static<typeof CoursePublishedEvent.schema>;

export const CourseUpdatedEvent = defineEvent({
  type: 'catalog.course.updated',
  version: 1,
  schema: Type.Object({
    courseId: Id,
    ownerId: Id,
    status: CourseStatus,
    /** Which parts changed: field names (`title`, `priceAmount`, …), `tags`, `outline`, `cover`. */
    changes: Type.Array(Type.String()),
    priceAmount: PriceAmount,
    currency: Currency,
    /** The title now (optional: not in events written before it was added). */
    title: Type.Optional(Type.String()),
    ...CourseFacts,
  }),
});
export type CourseUpdated = Static<typeof CourseUpdatedEvent.schema>;

export const CourseArchivedEvent = defineEvent({
  type: 'catalog.course.archived',
  version: 1,
  schema: Type.Object({ courseId: Id, ownerId: Id, archivedAt: DateTime }),
});
export type CourseArchived = Static<typeof CourseArchivedEvent.schema>;

export const LessonAddedEvent = defineEvent({
  type: 'catalog.lesson.added',
  version: 1,
  schema: Type.Object({
    courseId: Id,
    lessonId: Id,
    chapterId: Id,
    title: Type.String(),
    kind: Type.Union([
      Type.Literal('video'),
      Type.Literal('document'),
      Type.Literal('slides'),
      Type.Literal('ebook'),
      Type.Literal('article'),
    ]),
    freePreview: Type.Boolean(),
    /** Status of the course when the lesson was added; notify only tells learners about published ones. */
    courseStatus: CourseStatus,
  }),
});
export type LessonAdded = Static<typeof LessonAddedEvent.schema>;

const InvitationData = Type.Object({
  courseId: Id,
  instructorId: Id,
  /** Who acted: the owner or an admin (sent, withdrawn), the invitee (accepted, declined), a reviewer (rejected). */
  actorId: Id,
});

/** The owner (or an admin) invited an instructor to co-teach; notify tells the invitee. */
export const InvitationSentEvent = defineEvent({
  type: 'catalog.invitation.sent',
  version: 1,
  schema: Type.Object({ ...InvitationData.properties, courseTitle: Type.String() }),
});
export type InvitationSent = Static<typeof InvitationSentEvent.schema>;

/** The invitee accepted; on a course out of draft the name waits for a reviewer (`awaitingReview`). */
export const InvitationAcceptedEvent = defineEvent({
  type: 'catalog.invitation.accepted',
  version: 1,
  schema: Type.Object({ ...InvitationData.properties, awaitingReview: Type.Boolean() }),
});
export type InvitationAccepted = Static<typeof InvitationAcceptedEvent.schema>;

/** The invitation ended without the instructor joining. */
export const InvitationClosedEvent = defineEvent({
  type: 'catalog.invitation.closed',
  version: 1,
  schema: Type.Object({
    ...InvitationData.properties,
    outcome: Type.Union([Type.Literal('declined'), Type.Literal('withdrawn'), Type.Literal('rejected')]),
  }),
});
export type InvitationClosed = Static<typeof InvitationClosedEvent.schema>;

/** An instructor now appears on the course (after consent, and a review when it was out of draft). */
export const CourseInstructorAddedEvent = defineEvent({
  type: 'catalog.course.instructor_added',
  version: 1,
  schema: Type.Object({ courseId: Id, instructorId: Id, courseStatus: CourseStatus }),
});
export type CourseInstructorAdded = Static<typeof CourseInstructorAddedEvent.schema>;

/** An instructor no longer appears on the course: they left, or the owner or an admin removed them. */
export const CourseInstructorRemovedEvent = defineEvent({
  type: 'catalog.course.instructor_removed',
  version: 1,
  schema: Type.Object({ courseId: Id, instructorId: Id, actorId: Id, left: Type.Boolean() }),
});
export type CourseInstructorRemoved = Static<typeof CourseInstructorRemovedEvent.schema>;

/** The type names, for code that matches on `event.type`. */
export const CatalogEvents = {
  categoryCreated: CategoryCreatedEvent.type,
  categoryUpdated: CategoryUpdatedEvent.type,
  courseSubmitted: CourseSubmittedEvent.type,
  courseRejected: CourseRejectedEvent.type,
  coursePublished: CoursePublishedEvent.type,
  courseUpdated: CourseUpdatedEvent.type,
  courseArchived: CourseArchivedEvent.type,
  lessonAdded: LessonAddedEvent.type,
  invitationSent: InvitationSentEvent.type,
  invitationAccepted: InvitationAcceptedEvent.type,
  invitationClosed: InvitationClosedEvent.type,
  courseInstructorAdded: CourseInstructorAddedEvent.type,
  courseInstructorRemoved: CourseInstructorRemovedEvent.type,
} as const;

/** Events from other modules the catalog listens to. */
export const ConsumedEvents = {
  /** data: `{ userId, displayName }` — creates or renames the catalog's instructor copy. */
  instructorApproved: 'identity.instructor.approved',
  /** data: `{ userId, displayName, headline, bio }` — updates the copy of someone who already teaches here. */
  profileUpdated: 'identity.user.profile_updated',
  /** data: `{ exportId, userId, requestedAt }` — writes the catalog's part of the user's data export. */
  dataExportRequested: 'identity.data_export.requested',
} as const;
