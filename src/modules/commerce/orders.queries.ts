import { type Insertable, type Kysely, type Selectable, type SelectQueryBuilder, sql } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import { keyset } from '../../platform/http/pagination.js';
import {
  type CommerceTables,
  ORDER_COLUMNS,
  type OrderLineTable,
  type OrderStatus,
  type OrderTable,
  type OrderTransitionTable,
} from './tables.js';

type Db = Kysely<CommerceTables>;
type OrderRow = Selectable<OrderTable>;
type LineRow = Selectable<OrderLineTable>;

export async function lockOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  const [row] = await lockOne(db, { orderId });
  return row;
}

const lockOne = preparedStatement('commerce.orders.lock', (db: Db, { orderId }: { orderId: string }) =>
  db.selectFrom('commerce.orders').select(ORDER_COLUMNS).where('id', '=', orderId).forUpdate(),
);

export async function findOrder(db: Db, orderId: string): Promise<OrderRow | undefined> {
  const row = await db.selectFrom('commerce.orders').selectAll().where('id', '=', orderId).executeTakeFirst();
  return row;
}

/** The learner's order of this payment, locked: the order row first, as every writer of both takes them. */
export async function lockOrderOfPayment(db: Db, paymentId: string): Promise<OrderRow | undefined> {
  return db
    .selectFrom('commerce.orders')
    .selectAll()
    .where('id', '=', (eb) =>
      eb.selectFrom('commerce.payments').select('order_id').where('commerce.payments.id', '=', paymentId),
    )
    .forUpdate()
    .executeTakeFirst();
}

/**
 * Move a locked order to its new state in one statement: the order's status (and the columns
 * set with it), its lines' pending flag (which the one-pending-order-per-course unique index
 * reads), and the transition row with who and why. Returns the order as it now is.
 */
export async function applyTransition(db: Db, change: TransitionChange): Promise<OrderRow> {
  const [row] = await transition(db, change);
  if (!row) throw new Error(`no order ${change.orderId} to move`);
  return row;
}

interface TransitionChange {
  orderId: string;
  set: { status: OrderStatus; updated_at: Date; paid_at?: Date; provider?: OrderRow['provider'] };
  transition: Insertable<OrderTransitionTable>;
}

const transition = preparedStatement('commerce.orders.transition', (db: Db, change: TransitionChange) =>
  db
    .with('u', (qb) =>
      qb.updateTable('commerce.orders').set(change.set).where('id', '=', change.orderId).returningAll(),
    )
    .with('l', (qb) =>
      qb
        .updateTable('commerce.order_lines')
        // no transition leads back to pending: every move takes the order out of it
        .set({ pending: false })
        .where('order_id', '=', change.orderId)
        .where('pending', '=', true)
        .returning('order_id'),
    )
    .with('t', (qb) => qb.insertInto('commerce.order_transitions').values(change.transition).returning('id'))
    .selectFrom('u')
    .select(ORDER_COLUMNS),
);

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

/**
 * A new order with its lines and its first transition, in one statement (one round trip on the
 * checkout's path); returns the order and its lines as stored.
 */
export async function insertOrderWithLines(
  db: Db,
  order: Insertable<OrderTable>,
  lines: Insertable<OrderLineTable>[],
  transition: Insertable<OrderTransitionTable>,
): Promise<{ order: OrderRow; lines: LineRow[] }> {
  const [row] = await insertWithLines(db, { order, lines, transition });
  if (!row) throw new Error(`order ${order.id} was not inserted`);
  const { lines: stored, ...inserted } = row;
  return { order: inserted, lines: stored };
}

const insertWithLines = preparedStatement(
  'commerce.orders.insert-with-lines',
  (
    db: Db,
    a: {
      order: Insertable<OrderTable>;
      lines: Insertable<OrderLineTable>[];
      transition: Insertable<OrderTransitionTable>;
    },
  ) =>
    db
      .with('o', (qb) => qb.insertInto('commerce.orders').values(a.order).returningAll())
      .with('l', (qb) => qb.insertInto('commerce.order_lines').values(a.lines).returningAll())
      .with('t', (qb) => qb.insertInto('commerce.order_transitions').values(a.transition).returning('id'))
      .selectFrom('o')
      .select(ORDER_COLUMNS)
      .select(
        sql<LineRow[]>`(select coalesce(jsonb_agg(to_jsonb(l) order by l.position), '[]'::jsonb) from l)`.as(
          'lines',
        ),
      ),
);

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
  return pendingWith(db, { userId, courseIds });
}

/** The user's order lines of these courses, each with its order. */
const linesOfCourses = (db: Db, a: { userId: string; courseIds: readonly string[] }) =>
  db
    .selectFrom('commerce.order_lines')
    .innerJoin('commerce.orders', 'commerce.orders.id', 'commerce.order_lines.order_id')
    .where('commerce.order_lines.user_id', '=', a.userId)
    .where(sql<boolean>`commerce.order_lines.course_id = any(${a.courseIds}::uuid[])`);

const pendingWith = preparedStatement(
  'commerce.orders.pending-with-courses',
  (db: Db, a: { userId: string; courseIds: readonly string[] }) =>
    linesOfCourses(db, a)
      .select(ORDER_COLUMNS.map((c) => `commerce.orders.${c}` as const))
      .distinct()
      .where('commerce.order_lines.pending', '=', true),
);

/** Courses of these the user bought and still holds: lines of paid or partly refunded orders. */
export async function paidCourseIds(db: Db, userId: string, courseIds: readonly string[]): Promise<string[]> {
  if (courseIds.length === 0) return [];
  const rows = await paidOf(db, { userId, courseIds });
  return rows.map((r) => r.course_id);
}

const paidOf = preparedStatement(
  'commerce.orders.paid-course-ids',
  (db: Db, a: { userId: string; courseIds: readonly string[] }) =>
    linesOfCourses(db, a)
      .select('commerce.order_lines.course_id')
      .distinct()
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
      ),
);

export interface OrderFilter {
  userId?: string | undefined;
  status?: OrderStatus | undefined;
  createdFrom?: Date | undefined;
  createdTo?: Date | undefined;
}

/** Orders newest first, keyset-paged on (created_at, id). */
/** Newest first, keyset on (created_at, id): how commerce lists orders and refunds. */
export function newestFirst<TB extends keyof CommerceTables, O>(
  query: SelectQueryBuilder<CommerceTables, TB, O>,
  page: { limit: number; cursor?: string | undefined },
): SelectQueryBuilder<CommerceTables, TB, O> {
  return keyset(query, {
    columns: ['created_at', 'id'],
    direction: 'desc',
    shape: ['date-time', 'uuid'],
    ...page,
  });
}

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
  return newestFirst(q, page).execute();
}

/**
 * A batch of pending orders whose expiry has passed, locked for the sweep that expires them.
 * `skip locked`: an order a payment or a cancel holds right now is left to the next sweep, and
 * two sweeps running at once take different orders. Oldest first, through the status index.
 */
export async function lockOverdueOrders(db: Db, now: Date, limit: number): Promise<OrderRow[]> {
  return db
    .selectFrom('commerce.orders')
    .selectAll()
    .where('status', '=', 'pending')
    .where('expires_at', '<=', now)
    .orderBy('created_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
}

/** The unique index that keeps one pending order per learner and course (migration 0001). */
export const ONE_PENDING_ORDER = 'order_lines_one_pending';

export const isUniqueViolation = (err: unknown, constraint?: string): boolean => {
  const e = err as { code?: unknown; constraint?: unknown } | null;
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
};
