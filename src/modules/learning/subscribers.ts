import type { Transaction } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { EnvelopeOf } from '../../platform/messaging/events.js';
import type { DeliveryContext } from '../../platform/messaging/inbox.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { exportPartSubscriber } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { DataExportRequestedEvent, UserClosedEvent } from '../identity/index.js';
import type { EntitlementsService, Touched } from './entitlements.service.js';
import { learningExportSections } from './personal-data.queries.js';
import type { LearningTables } from './tables.js';

const tables = (trx: Transaction<object>) => trx.withTables<LearningTables>();

export interface LearningSubscriberDeps {
  entitlements: EntitlementsService;
  /** Where the parts of personal-data exports go (the platform's storage). */
  storage: Storage;
  clock: Clock;
}

/**
 * Commerce's order events, typed by its definitions (the platform dead-letters any other
 * version or shape) and applied once per event id through the inbox. Both lock the order's row,
 * so a refund delivered before its payment leaves a tombstone the payment then respects. The
 * cached entitlement answers are dropped after the commit. Identity's `identity.user.closed`
 * withdraws the account's certificates; `identity.data_export.requested` writes learning's part of
 * the user's copy of their personal data.
 */
export function createLearningSubscribers({
  entitlements,
  storage,
  clock,
}: LearningSubscriberDeps): ModuleSubscriber[] {
  /** Events of one transaction; the cached answers they touched are dropped after its commit. */
  const apply = async (
    events: readonly EnvelopeOf<typeof OrderPaidEvent | typeof OrderRefundedEvent>[],
    trx: Transaction<object>,
    { afterCommit }: DeliveryContext,
  ) => {
    const tx = tables(trx);
    const touched: Touched[] = [];
    for (const event of events) {
      touched.push(
        ...(event.type === 'commerce.order.paid'
          ? await entitlements.applyOrderPaid(tx, event.data)
          : await entitlements.applyOrderRefunded(tx, event.data)),
      );
    }
    if (touched.length > 0) afterCommit(() => entitlements.invalidate(touched));
  };
  return [
    eventSubscriber({
      consumer: 'learning.entitlements',
      events: [OrderPaidEvent, OrderRefundedEvent],
      // the events waiting on the bus in one transaction: one begin, inbox insert and commit for
      // them, and one drop of the cached answers they touched
      handleBatch: apply,
    }),
    eventSubscriber({
      consumer: 'learning.closed-accounts',
      events: [UserClosedEvent],
      // a certificate carries the learner's name and verifies it publicly: a closed account's
      // are withdrawn (their verification links answer 404); progress stays under the bare id
      async handle(event, trx) {
        await tables(trx)
          .deleteFrom('learning.certificates')
          .where('user_id', '=', event.data.userId)
          .execute();
      },
    }),
    exportPartSubscriber({
      requested: DataExportRequestedEvent,
      module: 'learning',
      storage,
      clock,
      sections: (trx, userId) => learningExportSections(tables(trx), userId),
    }),
  ];
}
