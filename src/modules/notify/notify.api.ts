import type { Kysely } from 'kysely';
import { inTransaction } from '../../platform/db/database.js';
import type { DeliveryService, NotificationInput } from './delivery.service.js';
import type { LiveHub } from './live.js';
import type { NotifyTables } from './tables.js';

/**
 * What other modules may ask of notify directly. Most reach it through events; this is for a
 * module with no event worth publishing (and for the benchmark).
 */
export interface NotifyApi {
  /** Create these notifications (duplicates by dedupe key skipped); resolves how many were new. */
  send(inputs: NotificationInput[]): Promise<number>;
}

export function createNotifyApi(deps: {
  db: Kysely<NotifyTables>;
  delivery: DeliveryService;
  live: LiveHub;
}): NotifyApi {
  return {
    async send(inputs) {
      const items = await inTransaction(deps.db, (trx) => deps.delivery.create(trx, inputs));
      await deps.live.publish(items);
      return items.length;
    },
  };
}
