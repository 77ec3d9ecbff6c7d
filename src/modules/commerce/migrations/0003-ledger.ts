import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .withSchema('commerce')
    .createTable('ledger_journals')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('sale', 'refund')`))
    // exactly once per order sale and per refund, however often the booking is attempted
    .addColumn('source_key', 'text', (c) => c.notNull().unique())
    .addColumn('order_id', 'uuid', (c) => c.notNull())
    .addColumn('refund_id', 'uuid')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('fee_bps', 'integer', (c) => c.notNull())
    .addColumn('occurred_at', sql`timestamptz(3)`, (c) => c.notNull())
    .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .withSchema('commerce')
    .createIndex('ledger_journals_order')
    .on('ledger_journals')
    .column('order_id')
    .execute();

  await db.schema
    .withSchema('commerce')
    .createTable('ledger_postings')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('journal_id', 'uuid', (c) => c.notNull().references('commerce.ledger_journals.id'))
    .addColumn('account', 'text', (c) =>
      c.notNull().check(sql`account in ('provider_clearing', 'platform_revenue', 'instructor_payable')`),
    )
    .addColumn('instructor_id', 'uuid')
    .addColumn('course_id', 'uuid')
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('occurred_at', sql`timestamptz(3)`, (c) => c.notNull())
    .addCheckConstraint(
      'ledger_postings_instructor',
      sql`(account = 'instructor_payable') = (instructor_id is not null)`,
    )
    .execute();
  await db.schema
    .withSchema('commerce')
    .createIndex('ledger_postings_instructor')
    .on('ledger_postings')
    .columns(['instructor_id', 'currency', 'occurred_at'])
    .where(sql.ref('instructor_id'), 'is not', null)
    .execute();
  await db.schema
    .withSchema('commerce')
    .createIndex('ledger_postings_journal')
    .on('ledger_postings')
    .column('journal_id')
    .execute();
}
