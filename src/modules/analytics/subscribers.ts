import type { Kysely, Transaction } from 'kysely';
import type { JobDefinition } from '../../platform/jobs/job.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import type { EventEnvelope } from '../../platform/messaging/types.js';
import { ConsumedEvents } from './analytics.events.js';
import {
  addInstructors,
  addPurchases,
  disown,
  insertOrderLines,
  isUuid,
  own,
  removeInstructor,
  removePurchases,
  setCourseStatus,
  upsertCategory,
  upsertCourse,
} from './facts.queries.js';
import type { RawEvent } from './ingest.queries.js';
import type { IngestService } from './ingest.service.js';
import type { AnalyticsTables } from './tables.js';

/** The raw event of a domain event: the envelope id is its key, so a replay is one row. */
function domainEvent(
  envelope: EventEnvelope,
  fields: {
    kind: string;
    at: string | undefined;
    userId: string;
    courseId?: string | null;
    lessonId?: string | null;
  },
): RawEvent {
  const { kind, at, userId } = fields;
  return {
    occurredAt: new Date(at ?? envelope.occurredAt).toISOString(),
    kind,
    source: 'domain',
    actor: userId,
    userId: isUuid(userId) ? userId : null,
    clientId: null,
    courseId: isUuid(fields.courseId) ? fields.courseId : null,
    lessonId: isUuid(fields.lessonId) ? fields.lessonId : null,
    eventKey: envelope.id,
    props: JSON.stringify(envelope.data ?? {}),
  };
}

/**
 * - `analytics.raw`: every domain event analytics counts, stored as a raw event in the inbox's
 *   transaction (so exactly once), plus the copies the recommendations need: order lines,
 *   purchases with their co-purchase pairs, and the owned set (grants, paid orders, refunds).
 * - `analytics.courses`: catalog's course facts; a course's category is not in the events, so
 *   each change sends `analytics.sync-course`, which asks the catalog after this transaction.
 */
export function createAnalyticsSubscribers(deps: {
  ingest: IngestService;
  jobs: () => JobQueue;
  syncCourse: () => JobDefinition;
}): ModuleSubscriber[] {
  const { ingest } = deps;
  // the inbox hands its own transaction (a Transaction typed as Kysely)
  const tx = (trx: unknown) =>
    (trx as Transaction<object>).withTables<AnalyticsTables>() as Kysely<AnalyticsTables>;
  const sync = (trx: unknown, courseId: string) =>
    deps
      .jobs()
      .send(deps.syncCourse(), { courseId }, { transaction: trx as Kysely<object>, singletonKey: courseId });

  return [
    eventSubscriber({
      consumer: 'analytics.raw',
      events: [
        ...ConsumedEvents.commerce,
        ...ConsumedEvents.learning,
        ...ConsumedEvents.community,
        ...ConsumedEvents.identity,
      ],
      async handle(event, trx) {
        const db = tx(trx);
        switch (event.type) {
          case 'commerce.order.paid': {
            const d = event.data;
            await ingest.record(db, [
              domainEvent(event, { kind: 'order_paid', at: d.paidAt, userId: d.userId }),
            ]);
            if (!isUuid(d.userId) || !isUuid(d.orderId)) return;
            const lines = d.lines.filter((l) => isUuid(l.courseId));
            await insertOrderLines(
              db,
              lines.map((l) => ({
                orderId: d.orderId,
                courseId: l.courseId,
                userId: d.userId,
                amount: l.amount,
                currency: d.currency,
                instructorIds: l.instructorIds.filter(isUuid),
                paidAt: d.paidAt,
              })),
            );
            const courseIds = lines.map((l) => l.courseId);
            await addPurchases(db, d.userId, courseIds);
            await own(db, d.userId, courseIds);
            for (const l of lines) await addInstructors(db, l.courseId, l.instructorIds);
            return;
          }
          case 'commerce.order.refunded': {
            const d = event.data;
            await ingest.record(db, [
              domainEvent(event, { kind: 'order_refunded', at: d.refundedAt, userId: d.userId }),
            ]);
            if (!isUuid(d.userId)) return;
            const revoked = d.revokedCourseIds.filter(isUuid);
            await removePurchases(db, d.userId, revoked);
            await disown(db, d.userId, revoked);
            return;
          }
          case 'learning.entitlement.granted': {
            const d = event.data;
            const raw = domainEvent(event, {
              kind: 'enrolment',
              at: d.grantedAt,
              userId: d.userId,
              courseId: d.courseId,
            });
            await ingest.record(db, [raw]);
            if (isUuid(d.userId) && isUuid(d.courseId)) await own(db, d.userId, [d.courseId]);
            return;
          }
          case 'learning.entitlement.revoked': {
            const d = event.data;
            const raw = domainEvent(event, {
              kind: 'unenrolment',
              at: d.revokedAt,
              userId: d.userId,
              courseId: d.courseId,
            });
            await ingest.record(db, [raw]);
            if (isUuid(d.userId) && isUuid(d.courseId)) await disown(db, d.userId, [d.courseId]);
            return;
          }
          case 'learning.lesson.completed': {
            const d = event.data;
            const at = d.completedAt;
            const fields = {
              kind: 'lesson_completed',
              at,
              userId: d.userId,
              courseId: d.courseId,
              lessonId: d.lessonId,
            };
            await ingest.record(db, [domainEvent(event, fields)]);
            return;
          }
          case 'learning.course.completed': {
            const d = event.data;
            const fields = {
              kind: 'course_completed',
              at: d.completedAt,
              userId: d.userId,
              courseId: d.courseId,
            };
            await ingest.record(db, [domainEvent(event, fields)]);
            return;
          }
          case 'community.review.created': {
            const d = event.data;
            const fields = {
              kind: 'review_created',
              at: d.createdAt,
              userId: d.authorId,
              courseId: d.courseId,
            };
            await ingest.record(db, [domainEvent(event, fields)]);
            return;
          }
          case 'community.comment.created': {
            const d = event.data;
            const fields = {
              kind: 'comment_created',
              at: d.createdAt,
              userId: d.authorId,
              courseId: d.courseId,
              lessonId: d.lessonId,
            };
            await ingest.record(db, [domainEvent(event, fields)]);
            return;
          }
          case 'identity.user.registered': {
            const d = event.data;
            // no time in the data: the envelope's is when the account was made
            await ingest.record(db, [
              domainEvent(event, { kind: 'user_registered', at: undefined, userId: d.userId }),
            ]);
            return;
          }
        }
      },
    }),
    eventSubscriber({
      consumer: 'analytics.courses',
      events: ConsumedEvents.catalog,
      async handle(event, trx) {
        const db = tx(trx);
        switch (event.type) {
          case 'catalog.category.created': {
            if (isUuid(event.data.id)) await upsertCategory(db, event.data.id, event.data.name);
            return;
          }
          case 'catalog.course.published': {
            const d = event.data;
            if (!isUuid(d.courseId)) return;
            await upsertCourse(db, {
              courseId: d.courseId,
              title: d.title,
              status: 'published',
              priceAmount: d.priceAmount,
              currency: d.currency,
            });
            await addInstructors(db, d.courseId, [d.ownerId, ...d.instructorIds]);
            await sync(trx, d.courseId);
            return;
          }
          case 'catalog.course.updated': {
            const d = event.data;
            if (!isUuid(d.courseId)) return;
            await upsertCourse(db, {
              courseId: d.courseId,
              status: d.status,
              priceAmount: d.priceAmount,
              currency: d.currency,
            });
            await addInstructors(db, d.courseId, [d.ownerId]);
            await sync(trx, d.courseId);
            return;
          }
          case 'catalog.course.archived': {
            if (isUuid(event.data.courseId)) await setCourseStatus(db, event.data.courseId, 'archived');
            return;
          }
          case 'catalog.course.instructor_added': {
            const d = event.data;
            if (isUuid(d.courseId)) await addInstructors(db, d.courseId, [d.instructorId]);
            return;
          }
          case 'catalog.course.instructor_removed': {
            const d = event.data;
            if (isUuid(d.courseId) && isUuid(d.instructorId))
              await removeInstructor(db, d.courseId, d.instructorId);
            return;
          }
        }
      },
    }),
  ];
}
