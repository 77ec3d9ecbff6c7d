import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { CommerceTables, NotificationTable, PaymentTable } from './tables.js';

type Db = Kysely<CommerceTables>;
export type PaymentRow = Selectable<PaymentTable>;

export async function insertPayment(db: Db, row: Insertable<PaymentTable>): Promise<PaymentRow> {
  return await db.insertInto('commerce.payments').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findPayment(db: Db, paymentId: string): Promise<PaymentRow | undefined> {
  const row = await db
    .selectFrom('commerce.payments')
    .selectAll()
    .where('id', '=', paymentId)
    .executeTakeFirst();
  return row;
}

export async function lockPayment(db: Db, paymentId: string): Promise<PaymentRow | undefined> {
  const row = await db
    .selectFrom('commerce.payments')
    .selectAll()
    .where('id', '=', paymentId)
    .forUpdate()
    .executeTakeFirst();
  return row;
}

export async function paymentsOf(db: Db, orderId: string): Promise<PaymentRow[]> {
  const rows = await db
    .selectFrom('commerce.payments')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows;
}

export async function updatePayment(
  db: Db,
  paymentId: string,
  set: Updateable<PaymentTable>,
): Promise<PaymentRow> {
  return await db
    .updateTable('commerce.payments')
    .set(set)
    .where('id', '=', paymentId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Mark the order's open attempts closed; returns them so the provider side can be closed after commit. */
export async function closeOpenPayments(db: Db, orderId: string, at: Date): Promise<PaymentRow[]> {
  const rows = await db
    .updateTable('commerce.payments')
    .set({ status: 'closed', updated_at: at })
    .where('order_id', '=', orderId)
    .where('status', '=', 'pending')
    .returningAll()
    .execute();
  return rows;
}

/** Drop an attempt the provider refused before it was ever sent (still pending, never notified). */
export async function deletePayment(db: Db, paymentId: string): Promise<void> {
  await db
    .deleteFrom('commerce.payments')
    .where('id', '=', paymentId)
    .where('status', '=', 'pending')
    .where('provider_ref', 'is', null)
    .execute();
}

/** Another payment of this provider already holds this transaction id. */
export async function paymentWithTxn(db: Db, provider: PaymentRow['provider'], txnId: string) {
  const row = await db
    .selectFrom('commerce.payments')
    .selectAll()
    .where('provider', '=', provider)
    .where('provider_txn_id', '=', txnId)
    .executeTakeFirst();
  return row;
}

/**
 * Record a notification once: false when (provider, notification id) was already recorded
 * (a duplicate delivery; the first one's outcome stands).
 */
export async function recordNotification(db: Db, row: Insertable<NotificationTable>): Promise<boolean> {
  const inserted = await db
    .insertInto('commerce.notifications')
    .values(row)
    .onConflict((oc) => oc.columns(['provider', 'notification_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

export async function notificationsOf(db: Db, paymentId: string) {
  return db
    .selectFrom('commerce.notifications')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .orderBy('received_at')
    .execute();
}
