import type { Transaction } from 'kysely';
import type { ModuleSubscriber } from '../../platform/module.js';
import { exportPartSubscriber } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import type { Clock, IdentityDb } from './context.js';
import { DataExportRequestedEvent } from './identity.events.js';
import { identitySections } from './personal-data.queries.js';
import type { IdentityTables } from './tables.js';

const tables = (trx: Transaction<object>): IdentityDb => trx.withTables<IdentityTables>();

/**
 * Identity's own part of a copy of a user's data is written from its event, as every other
 * module's is, so the parts are made the same way and a failed write is retried by redelivery.
 */
export function createIdentitySubscribers(deps: { storage: Storage; clock: Clock }): ModuleSubscriber[] {
  return [
    exportPartSubscriber({
      requested: DataExportRequestedEvent,
      module: 'identity',
      storage: deps.storage,
      clock: deps.clock,
      sections: (trx, userId) => identitySections(tables(trx), userId),
    }),
  ];
}
