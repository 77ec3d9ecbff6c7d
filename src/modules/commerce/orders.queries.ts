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
  return alongTheChain(rows);
}

/**
 * One order's transitions (read in `at` order) in the order they happened. Two transitions in
 * the same microsecond (one clock reading) tie on `at` and the random id decides; follow the
 * chain instead, each from the status the previous one reached.
 */
export function alongTheChain<T extends { from_status: OrderStatus | null; to_status: OrderStatus }>(
  transitions: readonly T[],
): T[] {
  const rows = [...transitions];
  const ordered: T[] = [];
  let status: OrderStatus | null = null;
  while (rows.length > 0) {
    const next = rows.findIndex((r) => r.from_status === status);
    const [row] = rows.splice(next === -1 ? 0 : next, 1);
    if (!row) break;
    ordered.push(row);
    status = row.to_status;
  }
  return ordered;
}

/** A new order's line, its instructors' ids as they are (the statement writes them as JSON). */
export type NewLine = Omit<Insertable<OrderLineTable>, 'instructor_ids'> & { instructor_ids: string[] };

/**
 * A new order with its lines and its first transition, in one statement (one round trip on the
 * checkout's path); returns the order and its lines as stored, or undefined when a pending order
 * of the learner already holds one of these courses and nothing was written.
 *
 * That check is the statement's own, so a learner ordering a pending course again costs no failed
 * statement (and no error in the database's log). It reads what was committed when the statement
 * began: an order of the same course committing meanwhile is still refused by the
 * one-pending-order unique index, as a unique violation.
 */
export async function insertOrderWithLines(
  db: Db,
  order: Insertable<OrderTable>,
  lines: NewLine[],
  transition: Omit<Insertable<OrderTransitionTable>, 'order_id'>,
): Promise<{ order: OrderRow; lines: LineRow[] } | undefined> {
  const [row] = await insertWithLines(db, {
    order,
    courseIds: lines.map((l) => l.course_id),
    lines: JSON.stringify(lines),
    transition,
  });
  if (!row) return undefined;
  const { lines: stored, ...inserted } = row;
  return { order: inserted, lines: stored };
}

/** The columns of a new order's line, in the order the statement lists them. */
const LINE_COLUMNS = [
  'order_id',
  'course_id',
  'user_id',
  'pending',
  'title',
  'instructor_ids',
  'list_price',
  'amount',
  'position',
] as const satisfies readonly (keyof OrderLineTable)[];

const insertWithLines = preparedStatement(
  'commerce.orders.insert-with-lines',
  (
    db: Db,
    a: {
      order: Insertable<OrderTable>;
      courseIds: string[];
      /** The lines as a JSON array of `NewLine`. */
      lines: string;
      transition: Omit<Insertable<OrderTransitionTable>, 'order_id'>;
    },
  ) => {
    // a column left undefined is left out (its own shape of the statement), as `values()` would
    const given = <T extends object>(row: T) =>
      (Object.keys(row) as (keyof T & string)[]).filter((c) => row[c] !== undefined);
    const orderColumns = given(a.order);
    const transitionColumns = given(a.transition);
    return (
      db
        // an insert from a select, so that it can be skipped; its values take the columns' types
        .with('o', (qb) =>
          qb
            .insertInto('commerce.orders')
            .columns(orderColumns)
            .expression(
              db
                .selectNoFrom(orderColumns.map((c) => sql`${a.order[c]}`.as(c)))
                .where((w) =>
                  w.not(
                    w.exists(
                      w
                        .selectFrom('commerce.order_lines')
                        .select(sql<number>`1`.as('one'))
                        .where('user_id', '=', a.order.user_id)
                        .where('course_id', '=', sql<string>`any(${a.courseIds}::uuid[])`)
                        .where('pending', '=', true),
                    ),
                  ),
                ),
            )
            .returningAll(),
        )
        .with('l', (qb) =>
          qb
            .insertInto('commerce.order_lines')
            .columns(LINE_COLUMNS)
            .expression((eb) =>
              eb
                .selectFrom(
                  sql<OrderLineTable>`jsonb_populate_recordset(null::commerce.order_lines, ${a.lines}::jsonb)`.as(
                    'r',
                  ),
                )
                .select(LINE_COLUMNS.map((c) => `r.${c}` as const))
                .where((w) => w.exists(w.selectFrom('o').select('o.id'))),
            )
            .returningAll(),
        )
        .with('t', (qb) =>
          qb
            .insertInto('commerce.order_transitions')
            .columns(['order_id', ...transitionColumns])
            .expression((eb) =>
              eb
                .selectFrom('o')
                .select(['o.id', ...transitionColumns.map((c) => sql`${a.transition[c]}`.as(c))]),
            )
            .returning('id'),
        )
        .selectFrom('o')
        .select(ORDER_COLUMNS)
        .select(
          sql<
            LineRow[]
          >`(select coalesce(jsonb_agg(to_jsonb(l) order by l.position), '[]'::jsonb) from l)`.as('lines'),
        )
    );
  },
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
