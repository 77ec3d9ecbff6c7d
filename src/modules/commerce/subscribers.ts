import type { Clock } from '../../platform/clock.js';
import type { Sealer } from '../../platform/crypto.js';
import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { exportPartSubscriber } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import { DataExportRequestedEvent } from '../identity/index.js';
import { OrderClosedEvent } from './commerce.events.js';
import type { CouponsService } from './coupons.service.js';
import { commercePersonalData, type MaskPayer } from './personal-data.queries.js';
import type { CommerceTables } from './tables.js';

export interface CommerceSubscriberDeps {
  coupons: CouponsService;
  /** Where commerce's part of a user's personal-data export is written. */
  storage: Storage;
  /** Opens the sealed payer identifiers, to show them masked in the export. */
  sealer: Sealer;
  clock: Clock;
}

/**
 * Commerce's handlers of events, each idempotent through the inbox. A cancelled or expired order
 * gives its coupon use back; a refunded one keeps it (the coupon was used). A user's request for
 * a copy of their personal data gets commerce's part of it.
 */
export function createCommerceSubscribers(deps: CommerceSubscriberDeps): ModuleSubscriber[] {
  return [
    eventSubscriber({
      consumer: 'commerce.coupon-release',
      events: [OrderClosedEvent],
      async handle(event, trx) {
        await deps.coupons.releaseForOrder(trx.withTables<CommerceTables>(), event.data.orderId);
      },
    }),
    exportPartSubscriber({
      requested: DataExportRequestedEvent,
      module: 'commerce',
      storage: deps.storage,
      clock: deps.clock,
      sections: (trx, userId) =>
        commercePersonalData(trx.withTables<CommerceTables>(), userId, {
          maskPayer: maskedPayer(deps.sealer),
        }),
    }),
  ];
}

/**
 * The payer identifier as the export shows it: its last four characters, enough to recognise
 * one's own account, never the whole of it. One that no longer opens (sealed under a key since
 * dropped from COMMERCE_DATA_KEYS) is shown fully masked rather than failing the whole export.
 */
function maskedPayer(sealer: Sealer): MaskPayer {
  return (sealed, paymentId) => {
    let payer: string;
    try {
      payer = sealer.open(sealed, paymentId);
    } catch {
      return '****';
    }
    return payer.length > 8 ? `****${payer.slice(-4)}` : '****';
  };
}
