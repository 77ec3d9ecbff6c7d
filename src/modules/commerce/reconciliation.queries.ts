import type { Kysely } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { CommerceTables } from './tables.js';

type Db = Kysely<CommerceTables>;

/** Orders created in [from, to), oldest first, keyset-paged on (created_at, id). */
export async function ordersCreatedIn(
  db: Db,
  range: { from: Date; to: Date },
  page: { limit: number; cursor?: string | undefined },
) {
  const q = db
    .selectFrom('commerce.orders')
    .select(['id', 'status', 'total', 'currency', 'created_at'])
    .where('created_at', '>=', range.from)
    .where('created_at', '<', range.to);
  return keyset(q, {
    columns: ['created_at', 'id'],
    direction: 'asc',
    shape: ['date-time', 'uuid'],
    ...page,
  }).execute();
}

export async function paymentsOfOrders(db: Db, orderIds: readonly string[]) {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom('commerce.payments')
    .select(['id', 'order_id', 'provider', 'provider_ref', 'amount', 'currency', 'status', 'flagged'])
    .where('order_id', 'in', orderIds)
    .orderBy('created_at')
    .execute();
}

export async function refundsOfOrders(db: Db, orderIds: readonly string[]) {
  if (orderIds.length === 0) return [];
  return db
    .selectFrom('commerce.refunds')
    .select(['id', 'order_id', 'payment_id', 'amount', 'currency', 'status'])
    .where('order_id', 'in', orderIds)
    .execute();
}
