import type { Transaction } from 'kysely';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { ProfileUpdatedEvent, UserRegisteredEvent } from '../identity/index.js';
import { EntitlementGrantedEvent, EntitlementRevokedEvent } from '../learning/index.js';
import { ReviewCreatedEvent, ReviewDeletedEvent, ReviewUpdatedEvent } from './community.events.js';
import type { ReviewsService } from './reviews.service.js';
import type { CommunityTables } from './tables.js';
import { matchForm } from '../../platform/text.js';

/**
 * - `community.ratings`: the module's own review events recount the course's aggregate from the
 *   reviews (idempotent, so redelivery and order do not matter).
 * - `community.grants`: learning's grants and revocations, copied per source; when the last grant
 *   of a course goes (a refund), the author's review loses its verified mark, and gets it back on
 *   a new grant.
 * - `community.members`: identity's display names, which mentions resolve against.
 */
export function createCommunitySubscribers(deps: {
  reviews: ReviewsService;
  dropList: (courseId: string) => Promise<void>;
}): ModuleSubscriber[] {
  const { reviews, dropList } = deps;
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
      async handle(event, trx, { afterCommit }) {
        const db = tx(trx);
        const { userId, courseId, source } = event.data;
        const sourceId = event.data.sourceId ?? '';
        let changed: string | undefined;
        if (event.type === 'learning.entitlement.granted') {
          await db
            .insertInto('community.grants')
            .values({ user_id: userId, course_id: courseId, source, source_id: sourceId })
            .onConflict((oc) => oc.doNothing())
            .execute();
          changed = await reviews.setVerified(db, userId, courseId, true);
        } else {
          await db
            .deleteFrom('community.grants')
            .where('user_id', '=', userId)
            .where('course_id', '=', courseId)
            .where('source', '=', source)
            .where('source_id', '=', sourceId)
            .execute();
          const left = await db
            .selectFrom('community.grants')
            .select('source')
            .where('user_id', '=', userId)
            .where('course_id', '=', courseId)
            .executeTakeFirst();
          if (!left) changed = await reviews.setVerified(db, userId, courseId, false);
        }
        if (changed) afterCommit(() => dropList(courseId));
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
