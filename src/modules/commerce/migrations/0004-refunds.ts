import { type Kysely, sql } from 'kysely';

const REFUND_STATUSES = "'requested','approved','rejected','sent','succeeded','failed'";

export async function up(db: Kysely<unknown>): Promise<void> {
  const s = db.schema.withSchema('commerce');
  const stamp = sql`timestamptz(3)`;

  await s
    .createTable('refunds')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('order_id', 'uuid', (c) => c.notNull().references('commerce.orders.id').onDelete('cascade'))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('payment_id', 'uuid', (c) => c.notNull().references('commerce.payments.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql.raw(`status in (${REFUND_STATUSES})`)))
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('requested_by_kind', 'text', (c) =>
      c.notNull().check(sql`requested_by_kind in ('user','admin')`),
    )
    .addColumn('requested_by', 'uuid', (c) => c.notNull())
    // the largest consumed share of a covered course when asked (basis points), as learning reported it
    .addColumn('consumed_bps', 'integer', (c) => c.check(sql`consumed_bps between 0 and 10000`))
    .addColumn('review_reason', 'text')
    .addColumn('decided_by_kind', 'text', (c) => c.check(sql`decided_by_kind in ('admin','system')`))
    .addColumn('decided_by', 'text')
    .addColumn('decision_reason', 'text')
    .addColumn('decided_at', stamp)
    .addColumn('provider_refund_id', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('sent_at', stamp)
    .addColumn('settled_at', stamp)
    .addColumn('created_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('refunds_provider_refund_unique', ['provider', 'provider_refund_id'])
    .addCheckConstraint(
      'refunds_decided',
      sql`(status = 'requested') = (decided_at is null) and (decided_at is null) = (decided_by_kind is null)`,
    )
    .addCheckConstraint(
      'refunds_rejected_has_reason',
      sql`status <> 'rejected' or decision_reason is not null`,
    )
    .addCheckConstraint('refunds_settled', sql`(status in ('succeeded','failed')) = (settled_at is not null)`)
    .execute();
  await s.createIndex('refunds_order_idx').on('refunds').columns(['order_id', 'created_at']).execute();
  await s.createIndex('refunds_user_idx').on('refunds').columns(['user_id', 'created_at', 'id']).execute();
  await s.createIndex('refunds_status_idx').on('refunds').columns(['status', 'created_at', 'id']).execute();
  await s.createIndex('refunds_created_idx').on('refunds').columns(['created_at', 'id']).execute();

  await s
    .createTable('refund_lines')
    .addColumn('refund_id', 'uuid', (c) => c.notNull().references('commerce.refunds.id').onDelete('cascade'))
    .addColumn('order_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount >= 0`))
    .addPrimaryKeyConstraint('refund_lines_pkey', ['refund_id', 'course_id'])
    .addForeignKeyConstraint('refund_lines_order_line', ['order_id', 'course_id'], 'commerce.order_lines', [
      'order_id',
      'course_id',
    ])
    .execute();
  await s
    .createIndex('refund_lines_line_idx')
    .on('refund_lines')
    .columns(['order_id', 'course_id'])
    .execute();

  // What of each order line is held by refunds that may still pay out (requested, approved, sent,
  // succeeded). The check is the database's own guard against paying back more than was paid,
  // whatever the service computed.
  await s
    .createTable('refund_balances')
    .addColumn('order_id', 'uuid', (c) => c.notNull())
    .addColumn('course_id', 'uuid', (c) => c.notNull())
    .addColumn('paid', 'integer', (c) => c.notNull().check(sql`paid >= 0`))
    .addColumn('reserved', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('refund_balances_pkey', ['order_id', 'course_id'])
    .addForeignKeyConstraint(
      'refund_balances_order_line',
      ['order_id', 'course_id'],
      'commerce.order_lines',
      ['order_id', 'course_id'],
    )
    .addCheckConstraint('refund_balances_within_paid', sql`reserved >= 0 and reserved <= paid`)
    .execute();

  await s
    .createTable('refund_transitions')
    // a sequence, so transitions written in one instant keep their order
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('refund_id', 'uuid', (c) => c.notNull().references('commerce.refunds.id').onDelete('cascade'))
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
    .createIndex('refund_transitions_refund_idx')
    .on('refund_transitions')
    .columns(['refund_id', 'at'])
    .execute();
}
