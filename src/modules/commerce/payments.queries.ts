import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import {
  type CommerceTables,
  type NotificationTable,
  ORDER_COLUMNS,
  type OrderTable,
  PAYMENT_COLUMNS,
  type PaymentTable,
} from './tables.js';

type Db = Kysely<CommerceTables>;
export type PaymentRow = Selectable<PaymentTable>;

/**
 * Record a payment attempt for the learner's order if it can still be paid, in one statement:
 * the order row is locked (the order every writer of orders and payments takes) and the attempt
 * inserted only when the order is the learner's, pending and not overdue. One round trip instead
 * of a transaction of four, on the checkout's path. `order` is undefined for an unknown order;
 * `payment` is undefined when the order refused it (the caller says why from `order`).
 */
export async function insertPaymentIfPayable(
  db: Db,
  args: { orderId: string; userId: string; provider: PaymentRow['provider']; at: Date },
): Promise<{ order: Selectable<OrderTable> | undefined; payment: PaymentRow | undefined }> {
  const [row] = await insertIfPayable(db, args);
  if (!row) return { order: undefined, payment: undefined };
  return { order: orderFromJson(row.order), payment: row.payment ? paymentFromJson(row.payment) : undefined };
}

const insertIfPayable = preparedStatement(
  'commerce.payments.insert-if-payable',
  (db: Db, args: { orderId: string; userId: string; provider: PaymentRow['provider']; at: Date }) =>
    db
      .with('o', (qb) =>
        qb.selectFrom('commerce.orders').selectAll().where('id', '=', args.orderId).forUpdate(),
      )
      .with('p', (qb) =>
        qb
          .insertInto('commerce.payments')
          .columns(['order_id', 'provider', 'amount', 'currency', 'action', 'created_at', 'updated_at'])
          .expression((eb) =>
            eb
              .selectFrom('o')
              .select([
                'o.id',
                sql<PaymentRow['provider']>`${args.provider}::text`.as('provider'),
                'o.total',
                'o.currency',
                sql<string>`'null'::jsonb`.as('action'),
                sql<Date>`${args.at}::timestamptz`.as('created_at'),
                sql<Date>`${args.at}::timestamptz`.as('updated_at'),
              ])
              .where('o.user_id', '=', args.userId)
              .where('o.status', '=', 'pending')
              .where('o.expires_at', '>', args.at),
          )
          .returningAll(),
      )
      .selectFrom('o')
      .select((eb) => [
        sql<Selectable<OrderTable>>`to_jsonb(o)`.as('order'),
        eb.selectFrom('p').select(sql<PaymentRow | null>`to_jsonb(p)`.as('payment')).as('payment'),
      ]),
);

/** A row read back through to_jsonb: timestamps arrive as ISO strings. */
const at = (v: unknown): Date => new Date(v as string);
const atOrNull = (v: unknown): Date | null => (v === null ? null : at(v));

function orderFromJson(o: Selectable<OrderTable>): Selectable<OrderTable> {
  return {
    ...o,
    expires_at: at(o.expires_at),
    paid_at: atOrNull(o.paid_at),
    created_at: at(o.created_at),
    updated_at: at(o.updated_at),
  };
}

function paymentFromJson(p: PaymentRow): PaymentRow {
  return {
    ...p,
    succeeded_at: atOrNull(p.succeeded_at),
    created_at: at(p.created_at),
    updated_at: at(p.updated_at),
  };
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
  return db
    .selectFrom('commerce.payments')
    .selectAll()
    .where('id', '=', paymentId)
    .forUpdate()
    .executeTakeFirst();
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
  const [row] = await updateOne(db, { paymentId, set });
  if (!row) throw new Error(`no payment ${paymentId} to update`);
  return row;
}

const updateOne = preparedStatement(
  'commerce.payments.update',
  (db: Db, { paymentId, set }: { paymentId: string; set: Updateable<PaymentTable> }) =>
    db.updateTable('commerce.payments').set(set).where('id', '=', paymentId).returning(PAYMENT_COLUMNS),
);

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

/** The lines of a locked order as a notification settles them (columns fixed when the order was made). */
export interface SettledLine {
  course_id: string;
  title: string;
  amount: number;
  instructor_ids: string[];
}

/**
 * Lock the order of the payment a notification is about, then the payment (the order every
 * writer of both takes: the payment's scan waits for the order's lock), and read the order's
 * lines, in one round trip. A row a concurrent writer changed while this waited comes back as
 * that writer committed it (PostgreSQL re-reads locked rows). Undefined for an unknown payment.
 */
export async function lockOrderAndPayment(db: Db, paymentId: string): Promise<OrderAndPayment | undefined> {
  return asOrderAndPayment(await lockBoth(db, { paymentId }));
}

/**
 * The same rows as `lockOrderAndPayment` without locking them, for a statement that checks them
 * again under its own locks (the paid notification's settling statement).
 */
export async function readOrderAndPayment(db: Db, paymentId: string): Promise<OrderAndPayment | undefined> {
  return asOrderAndPayment(await readBoth(db, { paymentId }));
}

export interface OrderAndPayment {
  order: Selectable<OrderTable>;
  payment: PaymentRow;
  lines: SettledLine[];
}

function asOrderAndPayment(
  rows: (Selectable<OrderTable> & { payment: PaymentRow | null; lines: SettledLine[] })[],
): OrderAndPayment | undefined {
  const [row] = rows;
  if (!row?.payment) return undefined;
  const { payment, lines, ...order } = row;
  return { order, payment: paymentFromJson(payment), lines };
}

/** The order of a payment, the payment and the order's lines; `lock` takes the order's lock, then the payment's. */
function orderAndPayment(name: string, lock: boolean) {
  return preparedStatement(name, (db: Db, { paymentId }: { paymentId: string }) => {
    const order = db
      .selectFrom('commerce.orders')
      .selectAll()
      .where('id', '=', (eb) =>
        eb.selectFrom('commerce.payments').select('order_id').where('commerce.payments.id', '=', paymentId),
      );
    return db
      .with('o', () => (lock ? order.forUpdate() : order))
      .with('p', (qb) => {
        const payment = qb
          .selectFrom('commerce.payments')
          .selectAll()
          .where('id', '=', paymentId)
          // evaluated from `o` before any payment row is returned, so the order is locked first
          .where('order_id', '=', (eb) => eb.selectFrom('o').select('o.id'));
        return lock ? payment.forUpdate() : payment;
      })
      .selectFrom('o')
      .select(ORDER_COLUMNS)
      .select((eb) => [
        eb.selectFrom('p').select(sql<PaymentRow | null>`to_jsonb(p)`.as('payment')).as('payment'),
        sql<
          SettledLine[]
        >`(select coalesce(jsonb_agg(jsonb_build_object('course_id', l.course_id, 'title', l.title, 'amount', l.amount, 'instructor_ids', l.instructor_ids) order by l.position), '[]'::jsonb) from commerce.order_lines l where l.order_id = o.id)`.as(
          'lines',
        ),
      ]);
  });
}

const lockBoth = orderAndPayment('commerce.payments.lock-with-order', true);
const readBoth = orderAndPayment('commerce.payments.read-with-order', false);

/**
 * Update a locked payment with the notified transaction id unless another payment of the provider
 * already holds that id; undefined then (the caller flags it). The check reads what is committed
 * after the locks were taken, and the unique (provider, provider_txn_id) constraint backs it.
 */
export async function updatePaymentWithTxn(
  db: Db,
  paymentId: string,
  set: Updateable<PaymentTable> & { provider_txn_id: string },
): Promise<PaymentRow | undefined> {
  const [row] = await updateWithTxn(db, { paymentId, set });
  return row;
}

const updateWithTxn = preparedStatement(
  'commerce.payments.update-with-txn',
  (
    db: Db,
    { paymentId, set }: { paymentId: string; set: Updateable<PaymentTable> & { provider_txn_id: string } },
  ) =>
    db
      .updateTable('commerce.payments as p')
      .set(set)
      .where('p.id', '=', paymentId)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('commerce.payments as q')
              .select(sql<number>`1`.as('one'))
              .whereRef('q.provider', '=', 'p.provider')
              .where('q.provider_txn_id', '=', set.provider_txn_id)
              .where('q.id', '<>', paymentId),
          ),
        ),
      )
      .returning(PAYMENT_COLUMNS),
);

/**
 * Record a notification once: false when (provider, notification id) was already recorded
 * (a duplicate delivery; the first one's outcome stands).
 */
export async function recordNotification(db: Db, row: Insertable<NotificationTable>): Promise<boolean> {
  return (await insertNotification(db, row)).length > 0;
}

const insertNotification = preparedStatement(
  'commerce.notifications.insert',
  (db: Db, row: Insertable<NotificationTable>) =>
    db
      .insertInto('commerce.notifications')
      .values(row)
      .onConflict((oc) => oc.columns(['provider', 'notification_id']).doNothing())
      .returning('id'),
);

export async function notificationsOf(db: Db, paymentId: string) {
  return db
    .selectFrom('commerce.notifications')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .orderBy('received_at')
    .execute();
}
