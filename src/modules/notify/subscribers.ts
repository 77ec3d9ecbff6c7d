import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import type { DeliveryContext } from '../../platform/messaging/inbox.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import {
  CourseRejectedEvent,
  CoursePublishedEvent,
  CourseUpdatedEvent,
  LessonAddedEvent,
} from '../catalog/index.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { CommentRepliedEvent } from '../community/index.js';
import {
  InstructorApprovedEvent,
  PasswordResetRequestedEvent,
  ProfileUpdatedEvent,
  RolesChangedEvent,
  UserRegisteredEvent,
} from '../identity/index.js';
import {
  CertificateIssuedEvent,
  EntitlementGrantedEvent,
  EntitlementRevokedEvent,
} from '../learning/index.js';
import type { DeliveryService, NotificationInput } from './delivery.service.js';
import { grantEntitlement, revokeEntitlement } from './fanout.queries.js';
import type { FanoutService } from './fanout.service.js';
import type { LiveHub } from './live.js';
import { upsertRecipient } from './preferences.queries.js';
import type { NotifyTables } from './tables.js';

/**
 * Every trigger is an event subscriber: idempotent by event id through the platform's inbox, and
 * by dedupe key (the order, the refund, the certificate…) in the notifications table, so a
 * second event about the same thing does not notify twice either. Outside channels are jobs
 * queued in the same transaction; the live push waits for the commit.
 */
export function createNotifySubscribers(deps: {
  delivery: DeliveryService;
  fanout: FanoutService;
  live: LiveHub;
  clock: Clock;
  logger: Logger;
}): ModuleSubscriber[] {
  const { delivery, fanout, live, clock, logger } = deps;
  const tables = (trx: Kysely<object>) => trx.withTables<NotifyTables>();

  const notify = async (trx: Kysely<object>, context: DeliveryContext, inputs: NotificationInput[]) => {
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
      events: [UserRegisteredEvent, ProfileUpdatedEvent, RolesChangedEvent],
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
        }
      },
    }),
    eventSubscriber({
      consumer: 'notify.account',
      events: [UserRegisteredEvent, PasswordResetRequestedEvent, InstructorApprovedEvent],
      async handle(event, trx, context) {
        switch (event.type) {
          case 'identity.user.registered':
            return notify(trx, context, [
              {
                recipientId: event.data.userId,
                kind: 'welcome',
                payload: { displayName: event.data.displayName },
                dedupeKey: 'registered',
                sourceEventId: event.id,
              },
            ]);
          case 'identity.password.reset_requested':
            // the link itself is identity's to mail (it carries a secret); this is the notice
            return notify(trx, context, [
              {
                recipientId: event.data.userId,
                kind: 'password_reset_requested',
                payload: { expiresAt: event.data.expiresAt },
                dedupeKey: event.id,
                sourceEventId: event.id,
              },
            ]);
          case 'identity.instructor.approved':
            return notify(trx, context, [
              {
                recipientId: event.data.userId,
                kind: 'instructor_approved',
                payload: { displayName: event.data.displayName },
                dedupeKey: event.data.applicationId,
                sourceEventId: event.id,
              },
            ]);
        }
      },
    }),
    eventSubscriber({
      consumer: 'notify.orders',
      events: [OrderPaidEvent, OrderRefundedEvent],
      async handle(event, trx, context) {
        if (event.type === 'commerce.order.paid') {
          const d = event.data;
          return notify(trx, context, [
            {
              recipientId: d.userId,
              kind: 'order_receipt',
              payload: {
                orderId: d.orderId,
                total: d.total,
                currency: d.currency,
                paidAt: d.paidAt,
                lines: d.lines.map((l) => ({ courseId: l.courseId, title: l.title, amount: l.amount })),
              },
              dedupeKey: d.orderId,
              sourceEventId: event.id,
            },
          ]);
        }
        const d = event.data;
        return notify(trx, context, [
          {
            recipientId: d.userId,
            kind: 'refund_processed',
            payload: {
              orderId: d.orderId,
              refundId: d.refundId,
              amount: d.amount,
              currency: d.currency,
              orderStatus: d.orderStatus,
            },
            dedupeKey: d.refundId,
            sourceEventId: event.id,
          },
        ]);
      },
    }),
    eventSubscriber({
      consumer: 'notify.course-review',
      events: [CoursePublishedEvent, CourseRejectedEvent],
      async handle(event, trx, context) {
        if (event.type === 'catalog.course.published') {
          const d = event.data;
          const to = [...new Set([d.ownerId, ...d.instructorIds])];
          return notify(
            trx,
            context,
            to.map((recipientId) => ({
              recipientId,
              kind: 'course_published' as const,
              payload: { courseId: d.courseId, title: d.title },
              dedupeKey: event.id,
              sourceEventId: event.id,
            })),
          );
        }
        const d = event.data;
        return notify(trx, context, [
          {
            recipientId: d.ownerId,
            kind: 'course_rejected',
            payload: { courseId: d.courseId, title: d.title, reason: d.reason },
            dedupeKey: event.id,
            sourceEventId: event.id,
          },
        ]);
      },
    }),
    eventSubscriber({
      consumer: 'notify.certificates',
      events: [CertificateIssuedEvent],
      async handle(event, trx, context) {
        const d = event.data;
        return notify(trx, context, [
          {
            recipientId: d.userId,
            kind: 'certificate_issued',
            payload: { courseId: d.courseId, courseTitle: d.courseTitle, verificationId: d.verificationId },
            dedupeKey: d.certificateId,
            sourceEventId: event.id,
          },
        ]);
      },
    }),
    eventSubscriber({
      consumer: 'notify.comment-replies',
      events: [CommentRepliedEvent],
      async handle(event, trx, context) {
        const d = event.data;
        return notify(trx, context, [
          {
            recipientId: d.parentAuthorId,
            kind: 'comment_replied',
            payload: {
              commentId: d.commentId,
              parentId: d.parentId,
              lessonId: d.lessonId,
              excerpt: d.excerpt,
            },
            dedupeKey: d.commentId,
            sourceEventId: event.id,
          },
        ]);
      },
    }),
    eventSubscriber({
      consumer: 'notify.entitlements',
      events: [EntitlementGrantedEvent, EntitlementRevokedEvent],
      async handle(event, trx) {
        const db = tables(trx);
        if (event.type === 'learning.entitlement.granted') {
          await grantEntitlement(db, event.data.userId, event.data.courseId);
        } else {
          await revokeEntitlement(db, event.data.userId, event.data.courseId);
        }
      },
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
  ];
}
