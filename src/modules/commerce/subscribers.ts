import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { OrderClosedEvent } from './commerce.events.js';
import type { CouponsService } from './coupons.service.js';
import type { CommerceTables } from './tables.js';

/**
 * Commerce's handlers of its own events, each idempotent through the inbox. A cancelled or
 * expired order gives its coupon use back; a refunded one keeps it (the coupon was used).
 */
export function createCommerceSubscribers(deps: { coupons: CouponsService }): ModuleSubscriber[] {
  return [
    eventSubscriber({
      consumer: 'commerce.coupon-release',
      events: [OrderClosedEvent],
      async handle(event, trx) {
        await deps.coupons.releaseForOrder(trx.withTables<CommerceTables>(), event.data.orderId);
      },
    }),
  ];
}
