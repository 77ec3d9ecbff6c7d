import type { Transaction } from 'kysely';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { ProfileUpdatedEvent, UserRegisteredEvent } from '../identity/index.js';
import { EntitlementGrantedEvent, EntitlementRevokedEvent } from '../learning/index.js';
import { ReviewCreatedEvent, ReviewDeletedEvent, ReviewUpdatedEvent } from './community.events.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { VerifyPurchaseJob } from './jobs.js';
import type { ReviewsService } from './reviews.service.js';
import type { CommunityTables } from './tables.js';
import { matchForm } from '../../platform/text.js';

/**
 * - `community.ratings`: the module's own review events recount the course's aggregate from the
 *   reviews (idempotent, so redelivery and order do not matter).
 * - `community.grants`: learning's grants and revocations each queue `community.verify-purchase`,
 *   which sets the author's verified mark to learning's current answer (a refund takes it away, a
 *   new purchase gives it back).
 * - `community.members`: identity's display names, which mentions resolve against.
 */
export function createCommunitySubscribers(deps: {
  reviews: ReviewsService;
  jobs: JobQueue;
  verifyPurchase: VerifyPurchaseJob;
}): ModuleSubscriber[] {
  const { reviews, jobs, verifyPurchase } = deps;
  // the inbox hands its own transaction (a Transaction typed as Kysely), which the outbox needs
  const tx = (trx: unknown) => (trx as Transaction<object>).withTables<CommunityTables>();
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
      async handle(event, trx) {
        // the job asks learning after this commits: no call to another module in a transaction
        const { userId, courseId } = event.data;
        await jobs.send(
          verifyPurchase,
          { userId, courseId },
          {
            transaction: trx,
            singletonKey: `${userId}:${courseId}`,
          },
        );
      },
    }),
    eventSubscriber({
      consumer: 'community.members',
      events: [UserRegisteredEvent, ProfileUpdatedEvent],
      async handle(event, trx) {
        const { userId, displayName } = event.data;
        const values = { display_name: displayName, name_key: matchForm(displayName).replace(/\s+/g, '') };
        await tx(trx)
          .insertInto('community.members')
          .values({ user_id: userId, ...values })
          .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
          .execute();
      },
    }),
  ];
}
