import type { Kysely, Transaction } from 'kysely';
import type { EnvelopeOf } from '../../platform/messaging/events.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import type { EntitlementsService, Touched } from './entitlements.service.js';
import type { LearningTables } from './tables.js';

/**
 * Commerce's order events, typed by its definitions (the platform dead-letters any other
 * version or shape) and applied once per event id through the inbox. Both lock the order's row,
 * so a refund delivered before its payment leaves a tombstone the payment then respects. The
 * cached entitlement answers are dropped after the commit.
 */
export function createLearningSubscribers(entitlements: EntitlementsService): ModuleSubscriber[] {
  const apply = (
    event: EnvelopeOf<typeof OrderPaidEvent | typeof OrderRefundedEvent>,
    trx: Kysely<object>,
  ) => {
    // the inbox hands its own transaction (a Transaction typed as Kysely), which the outbox needs
    const tx = (trx as Transaction<object>).withTables<LearningTables>(); // eslint-disable-line @typescript-eslint/no-unsafe-class-instance-assignment
    return event.type === 'commerce.order.paid'
      ? entitlements.applyOrderPaid(tx, event.data)
      : entitlements.applyOrderRefunded(tx, event.data);
  };
  return [
    eventSubscriber({
      consumer: 'learning.entitlements',
      events: [OrderPaidEvent, OrderRefundedEvent],
      async handle(event, trx, { afterCommit }) {
        const touched = await apply(event, trx);
        if (touched.length > 0) afterCommit(() => entitlements.invalidate(touched));
      },
      // the events waiting on the bus in one transaction: one begin, inbox insert and commit for
      // them, and one drop of the cached answers they touched, after that commit
      async handleBatch(events, trx, { afterCommit }) {
        const touched: Touched[] = [];
        for (const event of events) touched.push(...(await apply(event, trx)));
        if (touched.length > 0) afterCommit(() => entitlements.invalidate(touched));
      },
    }),
  ];
}
