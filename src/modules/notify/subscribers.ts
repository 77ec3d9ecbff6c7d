import type { Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Static } from 'typebox';
import type { Clock } from '../../platform/clock.js';
import type { EnvelopeOf, EventDefinition, TypedEnvelope } from '../../platform/messaging/events.js';
import type { DeliveryContext } from '../../platform/messaging/inbox.js';
import type { EventEnvelope } from '../../platform/messaging/types.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { exportPartSubscriber } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import {
  CourseRejectedEvent,
  CoursePublishedEvent,
  CourseUpdatedEvent,
  LessonAddedEvent,
} from '../catalog/index.js';
import {
  OrderPaidEvent,
  OrderRefundedEvent,
  PayoutPaidEvent,
  PayoutRejectedEvent,
} from '../commerce/index.js';
import {
  CommentApprovedEvent,
  type CommentCreated,
  CommentCreatedEvent,
  CommentEditedEvent,
  CommentRepliedEvent,
  ReviewCreatedEvent,
  ReviewUpdatedEvent,
} from '../community/index.js';
import {
  DataExportRequestedEvent,
  EmailChangedEvent,
  InstructorApprovedEvent,
  InstructorRejectedEvent,
  NewDeviceSignInEvent,
  PasswordResetRequestedEvent,
  ProfileUpdatedEvent,
  RolesChangedEvent,
  UserClosedEvent,
  UserRegisteredEvent,
} from '../identity/index.js';
import {
  CertificateIssuedEvent,
  EntitlementGrantedEvent,
  EntitlementRevokedEvent,
} from '../learning/index.js';
import type { DeliveryService, NotificationInput } from './delivery.service.js';
import { copyEntitlements, type EntitlementPair } from './fanout.queries.js';
import type { FanoutService } from './fanout.service.js';
import type { Kind } from './kinds.js';
import type { LiveHub } from './live.js';
import { notifyPersonalData } from './personal-data.queries.js';
import { forgetRecipient, upsertRecipient } from './preferences.queries.js';
import type { NotifyTables } from './tables.js';

/**
 * One notification trigger: the event it reacts to, the kind it creates, who gets it, what the
 * payload says and what makes it the same notification again (its dedupe key).
 */
interface Trigger<D extends EventDefinition> {
  event: D;
  kind: Kind;
  recipients(data: Static<D['schema']>): readonly string[];
  payload(data: Static<D['schema']>): Record<string, unknown>;
  dedupeKey(event: TypedEnvelope<D['type'], Static<D['schema']>>): string;
}

/** A trigger with its event type erased, so triggers of several events share one list. */
interface AnyTrigger {
  event: EventDefinition;
  inputs(event: EventEnvelope): NotificationInput[];
}

function trigger<D extends EventDefinition>(t: Trigger<D>): AnyTrigger {
  return {
    event: t.event,
    inputs(event) {
      // the subscriber picks this trigger by the event's type and version, and the platform has
      // checked the data against the same definition, so the envelope has this shape
      const typed = event as TypedEnvelope<D['type'], Static<D['schema']>>;
      return [...new Set(t.recipients(typed.data))].map((recipientId) => ({
        recipientId,
        kind: t.kind,
        payload: t.payload(typed.data),
        dedupeKey: t.dedupeKey(typed),
        sourceEventId: event.id,
      }));
    },
  };
}

const byEventId = (event: { id: string }) => event.id;

/** Events one batched transaction applies at most (a trigger group's notifications, the entitlement copy). */
const EVENT_BATCH = 500;

/**
 * What a run of grant and revoke events leaves for each (user, course): its last event decides,
 * as applying them one by one in bus order would.
 */
function entitlementChanges(
  events: readonly EnvelopeOf<typeof EntitlementGrantedEvent | typeof EntitlementRevokedEvent>[],
): { granted: EntitlementPair[]; revoked: EntitlementPair[] } {
  const last = new Map<string, { pair: EntitlementPair; granted: boolean }>();
  for (const event of events) {
    const pair = { userId: event.data.userId, courseId: event.data.courseId };
    const key = `${pair.userId}|${pair.courseId}`;
    // re-inserted so the map keeps the pairs in the order of their last event
    last.delete(key);
    last.set(key, { pair, granted: event.type === 'learning.entitlement.granted' });
  }
  const changes = { granted: [] as EntitlementPair[], revoked: [] as EntitlementPair[] };
  for (const { pair, granted } of last.values()) (granted ? changes.granted : changes.revoked).push(pair);
  return changes;
}

/** The notifications one event makes, by every trigger of its type and version (one per kind). */
function inputsOf(triggers: readonly AnyTrigger[], event: EventEnvelope): NotificationInput[] {
  // eventSubscriber only hands over events of the listed definitions
  return triggers
    .filter((t) => t.event.type === event.type && t.event.version === event.version)
    .flatMap((t) => t.inputs(event));
}

/** What a new or approved comment tells of itself (the events write these the same way). */
type CommentFacts = Pick<
  CommentCreated,
  'parentId' | 'parentAuthorId' | 'authorId' | 'byInstructor' | 'mentionedUserIds' | 'instructorIds'
>;

/**
 * A learner's top-level comment is a question to the course's team; an instructor's own post is
 * not, and an event without `instructorIds` (written before community sent them) tells nobody.
 */
function questionRecipients(d: CommentFacts): string[] {
  if (d.parentId !== null || d.byInstructor) return [];
  return (d.instructorIds ?? []).filter((id) => id !== d.authorId);
}

/**
 * One notice per person per comment: the author is not told of their own comment, the author of
 * the comment replied to hears by `comment_replied`, the team of a question by `lesson_question`.
 */
function mentionRecipients(d: CommentFacts): string[] {
  const told = new Set([d.authorId, ...questionRecipients(d)]);
  if (d.parentAuthorId) told.add(d.parentAuthorId);
  return d.mentionedUserIds.filter((id) => !told.has(id));
}

/**
 * The course's and lesson's titles the event carries, which the notice names instead of ids;
 * absent in events written before community sent them (the notice then shows the ids).
 */
const titlesOf = (d: { courseTitle?: string | undefined; lessonTitle?: string | undefined }) => ({
  ...(d.courseTitle ? { courseTitle: d.courseTitle } : {}),
  ...(d.lessonTitle ? { lessonTitle: d.lessonTitle } : {}),
});

const commentPayload = (d: {
  commentId: string;
  lessonId: string;
  courseId: string;
  courseTitle?: string | undefined;
  lessonTitle?: string | undefined;
}) => ({
  commentId: d.commentId,
  lessonId: d.lessonId,
  courseId: d.courseId,
  ...titlesOf(d),
});

/** A mention's notice: the comment's, and the comment it replies to (null for a top-level one). */
const mentionPayload = (d: Parameters<typeof commentPayload>[0] & { parentId: string | null }) => ({
  ...commentPayload(d),
  parentId: d.parentId,
});

/** The course's team hears of a review by someone else (a learner); the old shape tells nobody. */
const reviewRecipients = (d: { authorId: string; instructorIds?: string[] | undefined }) =>
  (d.instructorIds ?? []).filter((id) => id !== d.authorId);

const reviewPayload = (d: {
  reviewId: string;
  courseId: string;
  rating: number;
  courseTitle?: string | undefined;
}) => ({
  reviewId: d.reviewId,
  courseId: d.courseId,
  rating: d.rating,
  ...titlesOf(d),
});

/**
 * Event → kind → recipients → payload. Each group is one durable consumer; the names are the
 * inbox's record of what was applied, so a group is never renamed.
 */
const TRIGGER_GROUPS: readonly {
  consumer: string;
  triggers: readonly AnyTrigger[];
  /** Where the consumer starts when first seen (see BusSubscription.deliverFrom); `all` unless set. */
  deliverFrom?: 'new';
}[] = [
  {
    consumer: 'notify.account',
    triggers: [
      trigger({
        event: UserRegisteredEvent,
        kind: 'welcome',
        recipients: (d) => [d.userId],
        payload: (d) => ({ displayName: d.displayName }),
        dedupeKey: () => 'registered',
      }),
      // the link itself is identity's to mail (it carries a secret); this is the notice
      trigger({
        event: PasswordResetRequestedEvent,
        kind: 'password_reset_requested',
        recipients: (d) => [d.userId],
        payload: (d) => ({ expiresAt: d.expiresAt }),
        dedupeKey: byEventId,
      }),
      trigger({
        event: NewDeviceSignInEvent,
        kind: 'new_device_sign_in',
        recipients: (d) => [d.userId],
        payload: (d) => ({ userAgent: d.userAgent, ip: d.ip, at: d.at }),
        dedupeKey: (e) => e.data.sessionId,
      }),
      trigger({
        event: InstructorApprovedEvent,
        kind: 'instructor_approved',
        recipients: (d) => [d.userId],
        payload: (d) => ({ displayName: d.displayName }),
        dedupeKey: (e) => e.data.applicationId,
      }),
      trigger({
        event: InstructorRejectedEvent,
        kind: 'instructor_rejected',
        recipients: (d) => [d.userId],
        payload: (d) => ({ note: d.note }),
        dedupeKey: (e) => e.data.applicationId,
      }),
    ],
  },
  {
    consumer: 'notify.orders',
    triggers: [
      trigger({
        event: OrderPaidEvent,
        kind: 'order_receipt',
        recipients: (d) => [d.userId],
        payload: (d) => ({
          orderId: d.orderId,
          total: d.total,
          currency: d.currency,
          paidAt: d.paidAt,
          lines: d.lines.map((l) => ({ courseId: l.courseId, title: l.title, amount: l.amount })),
        }),
        dedupeKey: (e) => e.data.orderId,
      }),
      trigger({
        event: OrderRefundedEvent,
        kind: 'refund_processed',
        recipients: (d) => [d.userId],
        payload: (d) => ({
          orderId: d.orderId,
          refundId: d.refundId,
          amount: d.amount,
          currency: d.currency,
          orderStatus: d.orderStatus,
        }),
        dedupeKey: (e) => e.data.refundId,
      }),
    ],
  },
  {
    // its own consumer: payouts are an instructor's money, not a learner's order
    consumer: 'notify.payouts',
    triggers: [
      trigger({
        event: PayoutPaidEvent,
        kind: 'payout_paid',
        recipients: (d) => [d.instructorId],
        payload: (d) => ({
          payoutId: d.payoutId,
          amount: d.amount,
          currency: d.currency,
          reference: d.reference,
          paidAt: d.paidAt,
        }),
        dedupeKey: (e) => e.data.payoutId,
      }),
      trigger({
        event: PayoutRejectedEvent,
        kind: 'payout_rejected',
        recipients: (d) => [d.instructorId],
        payload: (d) => ({
          payoutId: d.payoutId,
          amount: d.amount,
          currency: d.currency,
          reason: d.reason,
          rejectedAt: d.rejectedAt,
        }),
        // the same key as the paid notice is no clash: a notification is unique per kind too
        dedupeKey: (e) => e.data.payoutId,
      }),
    ],
  },
  {
    consumer: 'notify.course-review',
    triggers: [
      trigger({
        event: CoursePublishedEvent,
        kind: 'course_published',
        recipients: (d) => [d.ownerId, ...d.instructorIds],
        payload: (d) => ({ courseId: d.courseId, title: d.title }),
        dedupeKey: byEventId,
      }),
      trigger({
        event: CourseRejectedEvent,
        kind: 'course_rejected',
        recipients: (d) => [d.ownerId],
        payload: (d) => ({ courseId: d.courseId, title: d.title, reason: d.reason }),
        dedupeKey: byEventId,
      }),
    ],
  },
  {
    consumer: 'notify.certificates',
    triggers: [
      trigger({
        event: CertificateIssuedEvent,
        kind: 'certificate_issued',
        recipients: (d) => [d.userId],
        payload: (d) => ({
          courseId: d.courseId,
          courseTitle: d.courseTitle,
          verificationId: d.verificationId,
        }),
        dedupeKey: (e) => e.data.certificateId,
      }),
    ],
  },
  {
    consumer: 'notify.comment-replies',
    triggers: [
      trigger({
        event: CommentRepliedEvent,
        kind: 'comment_replied',
        recipients: (d) => [d.parentAuthorId],
        payload: (d) => ({
          commentId: d.commentId,
          parentId: d.parentId,
          lessonId: d.lessonId,
          excerpt: d.excerpt,
          ...titlesOf(d),
        }),
        dedupeKey: (e) => e.data.commentId,
      }),
    ],
  },
  {
    // added after community had long been publishing: a first start on JetStream begins at the
    // new events, rather than announcing every comment and review the stream still retains
    consumer: 'notify.community',
    deliverFrom: 'new',
    triggers: [
      // a held comment tells nobody when written; `approved` tells them once a moderator lets it
      // out, under the same dedupe keys, so an item is announced once whichever way it came
      trigger({
        event: CommentCreatedEvent,
        kind: 'comment_mentioned',
        recipients: (d) => (d.status === 'visible' ? mentionRecipients(d) : []),
        payload: mentionPayload,
        dedupeKey: (e) => e.data.commentId,
      }),
      trigger({
        event: CommentCreatedEvent,
        kind: 'lesson_question',
        recipients: (d) => (d.status === 'visible' ? questionRecipients(d) : []),
        payload: commentPayload,
        dedupeKey: (e) => e.data.commentId,
      }),
      trigger({
        event: CommentApprovedEvent,
        kind: 'comment_mentioned',
        recipients: mentionRecipients,
        payload: mentionPayload,
        dedupeKey: (e) => e.data.commentId,
      }),
      trigger({
        event: CommentApprovedEvent,
        kind: 'lesson_question',
        recipients: questionRecipients,
        payload: commentPayload,
        dedupeKey: (e) => e.data.commentId,
      }),
      // an edit tells only whom it names for the first time, while the comment is visible; the
      // same dedupe key, so someone named before (removed and named again) is not told twice
      trigger({
        event: CommentEditedEvent,
        kind: 'comment_mentioned',
        recipients: (d) =>
          d.status === 'visible' ? mentionRecipients({ ...d, mentionedUserIds: d.addedMentionIds }) : [],
        payload: mentionPayload,
        dedupeKey: (e) => e.data.commentId,
      }),
      trigger({
        event: ReviewCreatedEvent,
        kind: 'course_reviewed',
        recipients: (d) => (d.status === 'visible' ? reviewRecipients(d) : []),
        payload: reviewPayload,
        dedupeKey: (e) => e.data.reviewId,
      }),
      trigger({
        event: ReviewUpdatedEvent,
        kind: 'course_reviewed',
        // community names the team only on an approval that announces the review (held, or hidden
        // before anyone saw it); a review let out again after being shown has no instructorIds
        recipients: (d) =>
          d.change === 'moderated' &&
          d.previousStatus !== undefined &&
          d.previousStatus !== 'visible' &&
          d.status === 'visible'
            ? reviewRecipients(d)
            : [],
        payload: reviewPayload,
        dedupeKey: (e) => e.data.reviewId,
      }),
    ],
  },
];

/**
 * Every trigger is an event subscriber: idempotent by event id through the platform's inbox, and
 * by dedupe key (the order, the refund, the payout, the certificate…) in the notifications table, so a
 * second event about the same thing does not notify twice either. Outside channels are jobs
 * queued in the same transaction; the live push waits for the commit.
 */
export function createNotifySubscribers(deps: {
  delivery: DeliveryService;
  fanout: FanoutService;
  live: LiveHub;
  clock: Clock;
  logger: Logger;
  /** Where the part of a personal-data export is written. */
  storage: Storage;
}): ModuleSubscriber[] {
  const { delivery, fanout, live, clock, logger, storage } = deps;
  const tables = (trx: Transaction<object>) => trx.withTables<NotifyTables>();

  const notify = async (trx: Transaction<object>, context: DeliveryContext, inputs: NotificationInput[]) => {
    const items = await delivery.create(tables(trx), inputs);
    if (items.length === 0) return;
    context.afterCommit(async () => {
      await live.publish(items).catch((err: unknown) => {
        logger.warn({ err }, 'notify: could not push new notifications live');
      });
    });
  };

  return [
    eventSubscriber({
      consumer: 'notify.recipients',
      events: [
        UserRegisteredEvent,
        ProfileUpdatedEvent,
        RolesChangedEvent,
        EmailChangedEvent,
        UserClosedEvent,
      ],
      async handle(event, trx) {
        const db = tables(trx);
        switch (event.type) {
          case 'identity.user.registered':
            await upsertRecipient(
              db,
              event.data.userId,
              { email: event.data.email, display_name: event.data.displayName },
              clock(),
            );
            return;
          case 'identity.user.profile_updated':
            await upsertRecipient(db, event.data.userId, { display_name: event.data.displayName }, clock());
            return;
          case 'identity.user.roles_changed':
            await upsertRecipient(db, event.data.userId, { roles: event.data.roles }, clock());
            return;
          case 'identity.user.email_changed':
            await upsertRecipient(db, event.data.userId, { email: event.data.email }, clock());
            return;
          case 'identity.user.closed':
            await forgetRecipient(db, event.data.userId);
            return;
        }
      },
    }),
    ...TRIGGER_GROUPS.map(({ consumer, triggers, deliverFrom }) =>
      eventSubscriber({
        consumer,
        ...(deliverFrom ? { deliverFrom } : {}),
        events: [...new Set(triggers.map((t) => t.event))],
        // the events waiting on the bus in one transaction: one insert for all their notifications
        batchSize: EVENT_BATCH,
        async handleBatch(events, trx, context) {
          return notify(
            trx,
            context,
            events.flatMap((event) => inputsOf(triggers, event)),
          );
        },
      }),
    ),
    eventSubscriber({
      consumer: 'notify.entitlements',
      events: [EntitlementGrantedEvent, EntitlementRevokedEvent],
      // the events waiting on the bus in one transaction: one begin, inbox insert, insert or
      // delete and commit for them all
      batchSize: EVENT_BATCH,
      handleBatch: (events, trx) => copyEntitlements(tables(trx), entitlementChanges(events)),
    }),
    eventSubscriber({
      consumer: 'notify.course-updates',
      events: [CourseUpdatedEvent, LessonAddedEvent],
      async handle(event, trx) {
        const published =
          event.type === 'catalog.course.updated'
            ? event.data.status === 'published'
            : event.data.courseStatus === 'published';
        if (!published) return;
        const changes =
          event.type === 'catalog.course.updated' ? event.data.changes : [`new lesson: ${event.data.title}`];
        await fanout.start(tables(trx), {
          sourceId: event.id,
          kind: 'course_updated',
          payload: { courseId: event.data.courseId, changes },
          segment: { type: 'course', courseId: event.data.courseId },
        });
      },
    }),
    exportPartSubscriber({
      requested: DataExportRequestedEvent,
      module: 'notify',
      storage,
      clock,
      sections: (trx, userId) => notifyPersonalData(tables(trx), userId),
    }),
  ];
}
