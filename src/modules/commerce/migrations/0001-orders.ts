import { type Kysely, sql } from 'kysely';

const STATUSES = "'pending','paid','partially_refunded','refunded','cancelled','expired'";
const PROVIDERS = "'sandbox','alipay','wechatpay','card'";

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema.withSchema('commerce');
  // millisecond precision so a keyset cursor (a JS Date) matches the stored value exactly
  const stamp = sql`timestamptz(3)`;

  await s
    .createTable('orders')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql.raw(`status in (${STATUSES})`)),
    )
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('subtotal', 'integer', (c) => c.notNull().check(sql`subtotal >= 0`))
    .addColumn('discount', 'integer', (c) => c.notNull().defaultTo(0).check(sql`discount >= 0`))
    .addColumn('total', 'integer', (c) => c.notNull().check(sql`total >= 0`))
    .addColumn('coupon_code', 'text')
    .addColumn('course_set', 'text', (c) => c.notNull())
    .addColumn('expires_at', stamp, (c) => c.notNull())
    .addColumn('paid_at', stamp)
    .addColumn('provider', 'text', (c) => c.check(sql.raw(`provider in (${PROVIDERS})`)))
    .addColumn('created_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('orders_total_after_discount', sql`total = subtotal - discount`)
    .execute();
  await s.createIndex('orders_user_idx').on('orders').columns(['user_id', 'created_at', 'id']).execute();
  await s.createIndex('orders_status_idx').on('orders').columns(['status', 'created_at', 'id']).execute();

  await s
    .createTable('order_lines')
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('commerce.orders.id').onDelete('cascade'))
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('pending', 'boolean', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('instructor_ids', 'jsonb', (c) => c.notNull())
    .addColumn('list_price', 'integer', (c) => c.notNull().check(sql`list_price >= 0`))
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('order_lines_pkey', ['order_id', 'course_id'])
    .execute();
  // one pending order per learner and course, enforced by the database so concurrent checkouts cannot both win
  await sql`create unique index order_lines_one_pending on commerce.order_lines (user_id, course_id) where pending`.execute(
    db,
  );
  await s.createIndex('order_lines_owner_idx').on('order_lines').columns(['user_id', 'course_id']).execute();

  await s
    .createTable('order_transitions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('commerce.orders.id').onDelete('cascade'))
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) =>
      c.notNull().check(sql`actor_kind in ('user','admin','provider','system')`),
    )
    .addColumn('actor_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('at', stamp, (c) => c.notNull())
    .execute();
  await s
    .createIndex('order_transitions_order_idx')
    .on('order_transitions')
    .columns(['order_id', 'at'])
    .execute();

  await s
    .createTable('payments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('commerce.orders.id').onDelete('cascade'))
    .addColumn('provider', 'text', (c) => c.notNull().check(sql.raw(`provider in (${PROVIDERS})`)))
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount >= 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().defaultTo('pending').check(sql`status in ('pending','succeeded','closed','failed')`),
    )
    .addColumn('provider_ref', 'text')
    .addColumn('provider_txn_id', 'text')
    .addColumn('action', 'jsonb', (c) => c.notNull())
    .addColumn('payer_sealed', 'text')
    .addColumn('flagged', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('flag_reason', 'text')
    .addColumn('succeeded_at', stamp)
    .addColumn('created_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('payments_provider_txn_unique', ['provider', 'provider_txn_id'])
    .execute();
  await s.createIndex('payments_order_idx').on('payments').columns(['order_id', 'created_at']).execute();
  await sql`create index payments_flagged_idx on commerce.payments (created_at) where flagged`.execute(db);

  await s
    .createTable('notifications')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('provider', 'text', (c) => c.notNull().check(sql.raw(`provider in (${PROVIDERS})`)))
    .addColumn('notification_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'uuid', (c) => c.references('commerce.payments.id').onDelete('set null'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('provider_txn_id', 'text', (c) => c.notNull())
    .addColumn('fields', 'jsonb', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) =>
      c.notNull().check(sql`outcome in ('applied','duplicate','ignored','rejected','flagged')`),
    )
    .addColumn('flagged', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('flag_reason', 'text')
    .addColumn('received_at', stamp, (c) => c.notNull())
    .addUniqueConstraint('notifications_provider_id_unique', ['provider', 'notification_id'])
    .execute();
  await s.createIndex('notifications_payment_idx').on('notifications').column('payment_id').execute();

  await s
    .createTable('sandbox_payments')
    .addColumn('payment_id', 'text', (c) => c.primaryKey())
    .addColumn('record', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}
