import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { EnvelopeOf } from '../../platform/messaging/events.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import type { EventEnvelope } from '../../platform/messaging/types.js';
import { exportPartSubscriber } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import { ConsumedEvents } from './analytics.events.js';
import { type PendingFacts, pendingFacts } from './facts.pending.js';
import {
  addInstructors,
  disown,
  removeInstructor,
  removePurchases,
  replaceCourseTags,
  setCourseCategory,
  setCourseStatus,
  upsertCategory,
  upsertCourse,
} from './facts.queries.js';
import type { RawEvent } from './ingest.queries.js';
import type { IngestService } from './ingest.service.js';
import { analyticsExportSections } from './personal-data.queries.js';
import type { AnalyticsTables } from './tables.js';
import { isUuid } from '../../platform/ids.js';

/** The raw event of a domain event: the envelope id is its key, so a replay is one row. */
function domainEvent(
  envelope: EventEnvelope,
  fields: {
    kind: string;
    at: string | undefined;
    userId: string;
    courseId?: string | null;
    lessonId?: string | null;
    /** What to keep of the event's data, when not all of it. */
    props?: Record<string, unknown>;
  },
): RawEvent {
  const { kind, at, userId } = fields;
  return {
    occurredAt: new Date(at ?? envelope.occurredAt).toISOString(),
    kind,
    source: 'domain',
    actor: userId,
    // events type ids as any non-empty string; the raw events keep uuid columns, so others are dropped
    userId: isUuid(userId) ? userId : null,
    clientId: null,
    courseId: isUuid(fields.courseId) ? fields.courseId : null,
    lessonId: isUuid(fields.lessonId) ? fields.lessonId : null,
    eventKey: envelope.id,
    props: JSON.stringify(fields.props ?? envelope.data ?? {}),
  };
}

/** What catalog's course events may tell of a course beside its price and status. */
interface CourseFacts {
  categoryId?: string | null | undefined;
  category?: { id: string; name: string } | null | undefined;
  tags?: string[] | undefined;
}

/**
 * Copy the category and tags an event carries. A field absent (an event written before catalog
 * added it) leaves the copy as it is; null or [] is the catalog saying "none".
 */
async function copyCourseFacts(db: Kysely<AnalyticsTables>, courseId: string, d: CourseFacts): Promise<void> {
  // the event names the category too, so a category created before analytics listened is known
  if (d.category && isUuid(d.category.id)) await upsertCategory(db, d.category.id, d.category.name);
  if (d.categoryId !== undefined)
    await setCourseCategory(db, courseId, isUuid(d.categoryId) ? d.categoryId : null);
  if (d.tags !== undefined) await replaceCourseTags(db, courseId, d.tags);
}

/** The domain events `analytics.raw` stores. */
const rawEvents = [
  ...ConsumedEvents.commerce,
  ...ConsumedEvents.learning,
  ...ConsumedEvents.community,
  ...ConsumedEvents.identity,
] as const;

/**
 * Add one event's inserts to `pending`; a removal flushes what is pending first, then runs, so the
 * rows come out as if each event were applied alone, in bus order.
 */
async function gather(
  event: EnvelopeOf<(typeof rawEvents)[number]>,
  db: Kysely<AnalyticsTables>,
  pending: PendingFacts,
): Promise<void> {
  switch (event.type) {
    case 'commerce.order.paid': {
      const d = event.data;
      pending.raw.push(domainEvent(event, { kind: 'order_paid', at: d.paidAt, userId: d.userId }));
      if (!isUuid(d.userId) || !isUuid(d.orderId)) return;
      const lines = d.lines.filter((l) => isUuid(l.courseId));
      pending.orderLines.push(
        ...lines.map((l) => ({
          orderId: d.orderId,
          courseId: l.courseId,
          userId: d.userId,
          amount: l.amount,
          currency: d.currency,
          instructorIds: l.instructorIds.filter(isUuid),
          paidAt: d.paidAt,
        })),
      );
      const userId = d.userId;
      pending.purchases.push(...lines.map((l) => ({ userId, courseId: l.courseId })));
      pending.owned.push(...lines.map((l) => ({ userId, courseId: l.courseId })));
      for (const l of lines)
        pending.instructors.push(
          ...l.instructorIds.map((instructorId) => ({ courseId: l.courseId, instructorId })),
        );
      return;
    }
    case 'commerce.order.refunded': {
      const d = event.data;
      pending.raw.push(domainEvent(event, { kind: 'order_refunded', at: d.refundedAt, userId: d.userId }));
      if (!isUuid(d.userId)) return;
      await pending.flush();
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
      pending.raw.push(raw);
      if (isUuid(d.userId) && isUuid(d.courseId))
        pending.owned.push({ userId: d.userId, courseId: d.courseId });
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
      pending.raw.push(raw);
      if (isUuid(d.userId) && isUuid(d.courseId)) {
        await pending.flush();
        await disown(db, d.userId, [d.courseId]);
      }
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
      pending.raw.push(domainEvent(event, fields));
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
      pending.raw.push(domainEvent(event, fields));
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
      pending.raw.push(domainEvent(event, fields));
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
      pending.raw.push(domainEvent(event, fields));
      return;
    }
    case 'identity.user.registered': {
      const d = event.data;
      // no time in the data: the envelope's is when the account was made. The address and name
      // are not kept: reports count sign-ups, and a closed account's copy would outlive it
      pending.raw.push(
        domainEvent(event, {
          kind: 'user_registered',
          at: undefined,
          userId: d.userId,
          props: { userId: d.userId },
        }),
      );
      return;
    }
  }
}

/**
 * - `analytics.raw`: every domain event analytics counts, stored as a raw event in the inbox's
 *   transaction (so exactly once), plus the copies the recommendations need: order lines,
 *   purchases with their co-purchase pairs, and the owned set (grants, paid orders, refunds).
 * - `analytics.courses`: catalog's course facts (title, price, status, category, tags,
 *   instructors), all from the events: analytics never asks the catalog.
 * - `analytics.data-export`: the user's part of a copy of their personal data, written to the
 *   storage inside the inbox transaction, so a failed write rolls back and the event comes again.
 */
export function createAnalyticsSubscribers(deps: {
  ingest: IngestService;
  storage: Storage;
  clock: Clock;
}): ModuleSubscriber[] {
  const { ingest, storage, clock } = deps;
  const tx = (trx: Transaction<object>): Kysely<AnalyticsTables> => trx.withTables<AnalyticsTables>();

  return [
    eventSubscriber({
      consumer: 'analytics.raw',
      events: rawEvents,
      // the events waiting on the bus in one transaction: one begin, inbox insert and commit for
      // them, and one statement per table for their inserts
      async handleBatch(events, trx) {
        const db = tx(trx);
        const pending = pendingFacts(db, ingest);
        for (const event of events) await gather(event, db, pending);
        await pending.flush();
      },
    }),
    eventSubscriber({
      consumer: 'analytics.courses',
      events: ConsumedEvents.catalog,
      async handle(event, trx) {
        const db = tx(trx);
        switch (event.type) {
          case 'catalog.category.created':
          case 'catalog.category.updated': {
            // a rename reaches the reasons ("popular in …") without waiting for a course event
            if (isUuid(event.data.id)) await upsertCategory(db, event.data.id, event.data.name);
            return;
          }
          // an event older than the copy's facts (sent again after a failure) leaves them as they are
          case 'catalog.course.published': {
            const d = event.data;
            if (!isUuid(d.courseId)) return;
            const taken = await upsertCourse(db, {
              courseId: d.courseId,
              title: d.title,
              status: 'published',
              priceAmount: d.priceAmount,
              currency: d.currency,
              at: new Date(event.occurredAt),
            });
            if (!taken) return;
            await copyCourseFacts(db, d.courseId, d);
            await addInstructors(db, d.courseId, [d.ownerId, ...d.instructorIds]);
            return;
          }
          case 'catalog.course.updated': {
            const d = event.data;
            if (!isUuid(d.courseId)) return;
            const taken = await upsertCourse(db, {
              courseId: d.courseId,
              title: d.title,
              status: d.status,
              priceAmount: d.priceAmount,
              currency: d.currency,
              at: new Date(event.occurredAt),
            });
            if (!taken) return;
            await copyCourseFacts(db, d.courseId, d);
            await addInstructors(db, d.courseId, [d.ownerId]);
            return;
          }
          case 'catalog.course.archived': {
            if (isUuid(event.data.courseId))
              await setCourseStatus(db, event.data.courseId, 'archived', new Date(event.occurredAt));
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
    exportPartSubscriber({
      requested: ConsumedEvents.dataExport[0],
      module: 'analytics',
      storage,
      clock,
      sections: (trx, userId) => analyticsExportSections(tx(trx), userId),
    }),
  ];
}
