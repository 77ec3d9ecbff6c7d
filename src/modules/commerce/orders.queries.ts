import { type Insertable, type Kysely, type Selectable, sql } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { RefundTables } from './refunds.tables.js';
import type {
  CommerceTables,
  OrderLineTable,
  OrderStatus,
  OrderTable,
  OrderTransitionTable,
} from './tables.js';

type Db = Kysely<CommerceTables>;
type OrderRow = Selectable<OrderTable>;
type LineRow = Selectable<OrderLineTable>;

export async function lockOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  const row = await db
    .selectFrom('commerce.orders')
    .selectAll()
    .where('id', '=', orderId)
    .forUpdate()
    .executeTakeFirst();
  return row;
}

export async function findOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  const row = await db.selectFrom('commerce.orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  return row;
}

export async function updateOrderStatus(
  db: Db,
  orderId: string,
  to: OrderStatus,
  at: Date,
  set: { paid_at?: Date; provider?: OrderRow['provider'] },
): Promise<OrderRow> {
  const row = await db
    .updateTable('commerce.orders')
    .set({ status: to, updated_at: at, ...set })
    .where('id', '=', orderId)
    .returningAll()
    .executeTakeFirstOrThrow();
  // the lines carry the pending flag for the one-pending-order-per-course unique index
  if (to !== 'pending') {
    await db
      .updateTable('commerce.order_lines')
      .set({ pending: false })
      .where('order_id', '=', orderId)
      .where('pending', '=', true)
      .execute();
  }
  return row;
}

export async function insertTransition(db: Db, row: Insertable<OrderTransitionTable>): Promise<void> {
  await db.insertInto('commerce.order_transitions').values(row).execute();
}

export async function transitionsOf(db: Db, orderId: string) {
  const rows = await db
    .selectFrom('commerce.order_transitions')
    .selectAll()
    .where('order_id', '=', orderId)
    .orderBy('at')
    .orderBy('id')
    .execute();
  // two transitions in the same microsecond (one clock reading) tie on `at` and the random id
  // decides; follow the chain instead, each from the status the previous one reached
  const ordered: typeof rows = [];
  let status: string | null = null;
  while (rows.length > 0) {
    const next = rows.findIndex((r) => r.from_status === status);
    const [row] = rows.splice(next === -1 ? 0 : next, 1);
    if (!row) break;
    ordered.push(row);
    status = row.to_status;
  }
  return ordered;
}

export async function insertOrder(db: Db, row: Insertable<OrderTable>): Promise<OrderRow> {
  return await db.insertInto('commerce.orders').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function insertLines(db: Db, rows: Insertable<OrderLineTable>[]): Promise<void> {
  await db.insertInto('commerce.order_lines').values(rows).execute();
}

export async function linesOf(db: Db, orderIds: readonly string[]): Promise<LineRow[]> {
  if (orderIds.length === 0) return [];
  const rows = await db
    .selectFrom('commerce.order_lines')
    .selectAll()
    .where('order_id', 'in', orderIds)
    .orderBy('order_id')
    .orderBy('position')
    .execute();
  return rows;
}

/** The learner's pending orders that contain any of these courses. */
export async function pendingOrdersWithCourses(db: Db, userId: string, courseIds: readonly string[]) {
  const rows = await db
    .selectFrom('commerce.order_lines')
    .innerJoin('commerce.orders', 'commerce.orders.id', 'commerce.order_lines.order_id')
    .selectAll('commerce.orders')
    .distinct()
    .where('commerce.order_lines.user_id', '=', userId)
    .where('commerce.order_lines.pending', '=', true)
    .where('commerce.order_lines.course_id', 'in', courseIds)
    .execute();
  return rows;
}

/** Courses of these the user bought and still holds: lines of paid or partly refunded orders. */
export async function paidCourseIds(db: Db, userId: string, courseIds: readonly string[]): Promise<string[]> {
  if (courseIds.length === 0) return [];
  const rows = await db
    .withTables<RefundTables>()
    .selectFrom('commerce.order_lines')
    .innerJoin('commerce.orders', 'commerce.orders.id', 'commerce.order_lines.order_id')
    .select('commerce.order_lines.course_id')
    .distinct()
    .where('commerce.order_lines.user_id', '=', userId)
    .where('commerce.order_lines.course_id', 'in', courseIds)
    .where('commerce.orders.status', 'in', ['paid', 'partially_refunded'])
    // a line its succeeded refunds paid back in full was revoked (refunds.service): not owned
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('commerce.refund_lines as rl')
            .innerJoin('commerce.refunds as r', 'r.id', 'rl.refund_id')
            .select(sql<number>`1`.as('one'))
            .where('r.status', '=', 'succeeded')
            .whereRef('rl.order_id', '=', 'commerce.order_lines.order_id')
            .whereRef('rl.course_id', '=', 'commerce.order_lines.course_id')
            .having(sql<boolean>`sum(rl.amount) >= commerce.order_lines.amount`),
        ),
      ),
    )
    .execute();
  return rows.map((r) => r.course_id);
}

export interface OrderFilter {
  userId?: string | undefined;
  status?: OrderStatus | undefined;
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
}

/** Orders newest first, keyset-paged on (created_at, id). */
export async function listOrders(
  db: Db,
  filter: OrderFilter,
  page: { limit: number; cursor?: string | undefined },
) {
  let q = db.selectFrom('commerce.orders').selectAll();
  if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.createdFrom !== undefined) q = q.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo !== undefined) q = q.where('created_at', '<', filter.createdTo);
  const rows = await keyset(q, {
    columns: ['created_at', 'id'],
    direction: 'desc',
    shape: ['date-time', 'uuid'],
    ...page,
  }).execute();
  return rows;
}

/** Pending orders whose expiry has passed (the expiry job's safety net and tests). */
export async function overdueOrderIds(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('commerce.orders')
    .select('id')
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

export const isUniqueViolation = (err: unknown, constraint?: string): boolean => {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
};
