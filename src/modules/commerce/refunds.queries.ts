import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import {
  type CommerceTables,
  HOLDING_STATUSES,
  type RefundLineTable,
  type RefundStatus,
  type RefundTable,
  type RefundTransitionTable,
} from './tables.js';
import { newestFirst } from './orders.queries.js';

type Db = Kysely<CommerceTables>;
export type RefundRow = Selectable<RefundTable>;
export type RefundLineRow = Selectable<RefundLineTable>;

export async function insertRefund(db: Db, row: Insertable<RefundTable>): Promise<RefundRow> {
  return db.insertInto('commerce.refunds').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function insertRefundLines(db: Db, rows: Insertable<RefundLineTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('commerce.refund_lines').values(rows).execute();
}

export async function findRefund(db: Db, refundId: string): Promise<RefundRow | undefined> {
  return db.selectFrom('commerce.refunds').selectAll().where('id', '=', refundId).executeTakeFirst();
}

/** Lock a refund row; callers lock its order first, as every writer of both does. */
export async function lockRefund(db: Db, refundId: string): Promise<RefundRow | undefined> {
  return db
    .selectFrom('commerce.refunds')
    .selectAll()
    .where('id', '=', refundId)
    .forUpdate()
    .executeTakeFirst();
}

export async function updateRefund(
  db: Db,
  refundId: string,
  set: Updateable<RefundTable>,
): Promise<RefundRow> {
  return db
    .updateTable('commerce.refunds')
    .set(set)
    .where('id', '=', refundId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertRefundTransition(db: Db, row: Insertable<RefundTransitionTable>): Promise<void> {
  await db.insertInto('commerce.refund_transitions').values(row).execute();
}

export async function refundTransitionsOf(db: Db, refundIds: readonly string[]) {
  if (refundIds.length === 0) return [];
  return db
    .selectFrom('commerce.refund_transitions')
    .selectAll()
    .where('refund_id', 'in', refundIds)
    .orderBy('at')
    .orderBy('id')
    .execute();
}

export async function refundLinesOf(db: Db, refundIds: readonly string[]): Promise<RefundLineRow[]> {
  if (refundIds.length === 0) return [];
  return db.selectFrom('commerce.refund_lines').selectAll().where('refund_id', 'in', refundIds).execute();
}

export async function refundsOfOrder(db: Db, orderId: string): Promise<RefundRow[]> {
  return db
    .selectFrom('commerce.refunds')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** What each line of the order has refunded already, by refunds in these states. */
export async function lineRefundTotals(
  db: Db,
  orderId: string,
  statuses: readonly RefundStatus[],
): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('commerce.refund_lines')
    .innerJoin('commerce.refunds', 'commerce.refunds.id', 'commerce.refund_lines.refund_id')
    .select([
      'commerce.refund_lines.course_id',
      sql<number>`sum(commerce.refund_lines.amount)::int`.as('total'),
    ])
    .where('commerce.refund_lines.order_id', '=', orderId)
    .where('commerce.refunds.status', 'in', statuses)
    .groupBy('commerce.refund_lines.course_id')
    .execute();
  return new Map(rows.map((r) => [r.course_id, r.total]));
}

/** The sum held against the order by refunds that may still pay out. */
export async function heldOfOrder(db: Db, orderId: string): Promise<number> {
  const row = await db
    .selectFrom('commerce.refunds')
    .select(sql<number>`coalesce(sum(amount), 0)::int`.as('held'))
    .where('order_id', '=', orderId)
    .where('kind', '=', 'order')
    .where('status', 'in', HOLDING_STATUSES)
    .executeTakeFirst();
  return row?.held ?? 0;
}

/** The refund that gives a flagged payment back, if one was made. */
export async function flaggedPaymentRefund(db: Db, paymentId: string): Promise<RefundRow | undefined> {
  return db
    .selectFrom('commerce.refunds')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .where('kind', '=', 'flagged-payment')
    .executeTakeFirst();
}

/** Refunds approved or sent before `before` that the provider has not settled: the oldest first. */
export async function refundsInFlightSince(db: Db, before: Date, limit: number): Promise<RefundRow[]> {
  return db
    .selectFrom('commerce.refunds')
    .selectAll()
    .where('status', 'in', ['approved', 'sent'])
    .where('updated_at', '<', before)
    .orderBy('updated_at')
    .limit(limit)
    .execute();
}

export async function succeededOfOrder(db: Db, orderId: string): Promise<number> {
  const row = await db
    .selectFrom('commerce.refunds')
    .select(sql<number>`coalesce(sum(amount), 0)::int`.as('done'))
    .where('order_id', '=', orderId)
    .where('kind', '=', 'order')
    .where('status', '=', 'succeeded')
    .executeTakeFirst();
  return row?.done ?? 0;
}

/**
 * Hold (positive) or release (negative) amounts of order lines. The balance row of a line is
 * created at its first refund; the table's check refuses a total above what the line was paid.
 */
export async function moveBalances(
  db: Db,
  orderId: string,
  lines: readonly { courseId: string; paid: number; amount: number }[],
): Promise<void> {
  for (const line of lines) {
    if (line.amount === 0) continue;
    if (line.amount < 0) {
      // a release: the row exists since the hold made it (an insert would be checked before the conflict)
      await db
        .updateTable('commerce.refund_balances')
        .set({ reserved: sql<number>`reserved + ${line.amount}` })
        .where('order_id', '=', orderId)
        .where('course_id', '=', line.courseId)
        .execute();
      continue;
    }
    await db
      .insertInto('commerce.refund_balances')
      .values({ order_id: orderId, course_id: line.courseId, paid: line.paid, reserved: line.amount })
      .onConflict((oc) =>
        oc
          .columns(['order_id', 'course_id'])
          .doUpdateSet({ reserved: sql<number>`commerce.refund_balances.reserved + ${line.amount}` }),
      )
      .execute();
  }
}

export interface RefundFilter {
  userId?: string | undefined;
  status?: RefundStatus | undefined;
}

/** Refunds newest first, keyset-paged on (created_at, id). */
export async function listRefunds(
  db: Db,
  filter: RefundFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<RefundRow[]> {
  let q = db.selectFrom('commerce.refunds').selectAll();
  if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  return newestFirst(q, page).execute();
}

/** The order's payment that took the money (one per paid order; flagged extra payments are not it). */
export async function settlingPayment(db: Db, orderId: string) {
  return db
    .selectFrom('commerce.payments')
    .selectAll()
    .where('order_id', '=', orderId)
    .where('status', '=', 'succeeded')
    .where('flagged', '=', false)
    .orderBy('succeeded_at')
    .executeTakeFirst();
}
