import type { Transaction } from 'kysely';
import type { TypedEnvelope } from '../../platform/messaging/events.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import type { Clock } from '../../platform/clock.js';
import { exportPartSubscriber } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import {
  DataExportRequestedEvent,
  ProfileUpdatedEvent,
  UserClosedEvent,
  UserRegisteredEvent,
} from '../identity/index.js';
import { EntitlementGrantedEvent, EntitlementRevokedEvent } from '../learning/index.js';
import { ReviewCreatedEvent, ReviewDeletedEvent, ReviewUpdatedEvent } from './community.events.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { DemoReviewJob, VerifyPurchaseJob } from './jobs.js';
import type { ReviewsService } from './reviews.service.js';
import type { CommunityTables } from './tables.js';
import { matchForm } from '../../platform/text.js';
import { unverifiedReviewKeys } from './verification.queries.js';
import { personalDataSections } from './personal-data.queries.js';
import { coursesReviewedBy } from './reviews.queries.js';
import { isDemoPersona } from './seed/reviews.js';

/**
 * - `community.ratings`: the module's own review events recount the course's aggregate from the
 *   reviews (idempotent, so redelivery and order do not matter).
 * - `community.grants`: learning's grants and revocations each queue `community.verify-purchase`,
 *   which sets the author's verified mark to learning's current answer (a refund takes it away, a
 *   new purchase gives it back). With demo data on, a grant to one of identity's demo learners
 *   also queues `community.demo-review` (that learner's review of the course).
 * - `community.members`: identity's display names, which mentions resolve against.
 * - `community.data-export`: community's part of a user's copy of their personal data, written
 *   to storage inside the delivery, so a failed write rolls back and the event comes again.
 */
export function createCommunitySubscribers(deps: {
  reviews: ReviewsService;
  jobs: JobQueue;
  verifyPurchase: VerifyPurchaseJob;
  /** Set while the platform seeds demo data (SEED_DEMO): demo learners' grants queue it. */
  demoReview?: DemoReviewJob | undefined;
  storage: Storage;
  clock: Clock;
  /** Drops a course's cached review pages (after the commit of a change they show). */
  reviewPagesChanged: (courseId: string) => Promise<void>;
}): ModuleSubscriber[] {
  const { reviews, jobs, verifyPurchase, demoReview, storage, clock, reviewPagesChanged } = deps;
  const tx = (trx: Transaction<object>) => trx.withTables<CommunityTables>();

  /**
   * Queue `community.verify-purchase` for each revocation, and for each grant whose user has a
   * review of the course with the mark off. A grant finds nothing to change otherwise: a review
   * can only be written by an owner, and starts verified; and a mark that a later revocation
   * should take away is that revocation's job. So a first purchase (no review yet) costs one
   * look-up instead of a job. The job asks learning after this commits: no call to another
   * module in a transaction.
   */
  async function verifyLater(
    trx: Transaction<object>,
    events: readonly TypedEnvelope<string, { userId: string; courseId: string }>[],
  ): Promise<void> {
    const key = (d: { userId: string; courseId: string }) => `${d.userId}:${d.courseId}`;
    const grants = events.filter((e) => e.type === EntitlementGrantedEvent.type).map((e) => e.data);
    const unverified = await unverifiedReviewKeys(tx(trx), grants);
    for (const event of events) {
      const { userId, courseId } = event.data;
      if (event.type === EntitlementGrantedEvent.type && !unverified.has(key(event.data))) continue;
      await jobs.send(
        verifyPurchase,
        { userId, courseId },
        { transaction: trx, singletonKey: key(event.data) },
      );
    }
  }

  /**
   * Queue `community.demo-review` for each grant to one of identity's demo learners (fixed ids
   * that exist only where identity's demo seed ran on an empty database): the demo's reviews can
   * only be written once the learner owns the course, which commerce's demo sales bring after
   * community's seed has run. The job writes it after this commits (one waiting per learner and
   * course); nobody else's grant queues anything.
   */
  async function demoReviewLater(
    trx: Transaction<object>,
    events: readonly TypedEnvelope<string, { userId: string; courseId: string }>[],
  ): Promise<void> {
    if (!demoReview) return;
    for (const event of events) {
      const { userId, courseId } = event.data;
      if (event.type !== EntitlementGrantedEvent.type || !isDemoPersona(userId)) continue;
      await jobs.send(
        demoReview,
        { userId, courseId },
        { transaction: trx, singletonKey: `${userId}:${courseId}` },
      );
    }
  }

  return [
    eventSubscriber({
      consumer: 'community.ratings',
      events: [ReviewCreatedEvent, ReviewUpdatedEvent, ReviewDeletedEvent],
      async handle(event, trx) {
        await reviews.recount(tx(trx), event.data.courseId);
      },
    }),
    eventSubscriber({
      consumer: 'community.grants',
      events: [EntitlementGrantedEvent, EntitlementRevokedEvent],
      // the grants and revocations waiting on the bus in one transaction, with one review look-up
      async handleBatch(events, trx) {
        await verifyLater(trx, events);
        await demoReviewLater(trx, events);
      },
    }),
    eventSubscriber({
      consumer: 'community.members',
      events: [UserRegisteredEvent, ProfileUpdatedEvent, UserClosedEvent],
      async handle(event, trx, { afterCommit }) {
        // the cached anonymous pages of the courses the user reviewed show the name: dropped once
        // the new name (or none) is committed
        const reviewed = await coursesReviewedBy(tx(trx), event.data.userId);
        if (reviewed.length > 0) {
          afterCommit(async () => {
            await Promise.all(reviewed.map((courseId) => reviewPagesChanged(courseId)));
          });
        }
        if (event.type === 'identity.user.closed') {
          // the name goes; the reviews and comments stay under the bare id, with no name
          await tx(trx).deleteFrom('community.members').where('user_id', '=', event.data.userId).execute();
          return;
        }
        const { userId, displayName } = event.data;
        const values = { display_name: displayName, name_key: matchForm(displayName).replace(/\s+/g, '') };
        await tx(trx)
          .insertInto('community.members')
          .values({ user_id: userId, ...values })
          .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
          .execute();
      },
    }),
    exportPartSubscriber({
      requested: DataExportRequestedEvent,
      module: 'community',
      storage,
      clock,
      sections: (trx, userId) => personalDataSections(tx(trx), userId),
    }),
  ];
}
