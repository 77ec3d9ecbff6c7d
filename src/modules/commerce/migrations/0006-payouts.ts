import { type Kysely, sql } from 'kysely';

/**
 * Instructor payouts: an instructor asks for part of what is available to them, an admin pays it
 * by bank transfer outside Lectern (or rejects it). A paid payout is booked as a ledger journal
 * `payout:<id>` that debits the instructor's `instructor_payable` and credits the new account
 * `payout_clearing`; such a journal has no order, so `order_id` becomes nullable for it alone.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table commerce.ledger_journals
      drop constraint ledger_journals_kind_check,
      add constraint ledger_journals_kind_check check (kind in ('sale', 'refund', 'payout')),
      alter column order_id drop not null,
      add column payout_id uuid,
      add constraint ledger_journals_source check (
        (kind = 'payout') = (payout_id is not null) and (kind = 'payout') = (order_id is null)
      )
  `.execute(db);
  await sql`
    alter table commerce.ledger_postings
      drop constraint ledger_postings_account_check,
      add constraint ledger_postings_account_check check (
        account in ('provider_clearing', 'platform_revenue', 'instructor_payable', 'payout_clearing')
      )
  `.execute(db);

  const s = db.schema.withSchema('commerce');
  const stamp = sql`timestamptz(3)`;
  await s
    .createTable('payouts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('instructor_id', 'uuid', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('currency', 'char(3)', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('requested', 'paid', 'rejected', 'cancelled')`),
    )
    .addColumn('reference', 'text')
    .addColumn('rejection_reason', 'text')
    .addColumn('decided_by', 'uuid')
    .addColumn('decided_at', stamp)
    .addColumn('journal_id', 'uuid', (c) => c.references('commerce.ledger_journals.id'))
    .addColumn('created_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', stamp, (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint(
      'payouts_paid',
      sql`(status = 'paid') = (reference is not null) and (status = 'paid') = (journal_id is not null)`,
    )
    .addCheckConstraint('payouts_rejected', sql`(status = 'rejected') = (rejection_reason is not null)`)
    .addCheckConstraint('payouts_decided', sql`(status = 'requested') = (decided_at is null)`)
    .execute();
  await s
    .createIndex('payouts_instructor_idx')
    .on('payouts')
    .columns(['instructor_id', 'created_at', 'id'])
    .execute();
  await s.createIndex('payouts_status_idx').on('payouts').columns(['status', 'created_at', 'id']).execute();
  await s.createIndex('payouts_created_idx').on('payouts').columns(['created_at', 'id']).execute();
  // what an instructor's outstanding requests reserve, read on every request and balance
  await sql`
    create index payouts_reserved_idx on commerce.payouts (instructor_id, currency)
    where status = 'requested'
  `.execute(db);

  await s
    .createTable('payout_transitions')
    // a sequence, so transitions written in one instant keep their order
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('payout_id', 'uuid', (c) => c.notNull().references('commerce.payouts.id').onDelete('cascade'))
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) =>
      c.notNull().check(sql`actor_kind in ('user','admin','provider','system')`),
    )
    .addColumn('actor_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('at', stamp, (c) => c.notNull())
    .execute();
  await s.createIndex('payout_transitions_payout_idx').on('payout_transitions').column('payout_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table commerce.payout_transitions`.execute(db);
  await sql`drop table commerce.payouts`.execute(db);
  await sql`delete from commerce.ledger_postings p using commerce.ledger_journals j
    where j.id = p.journal_id and j.kind = 'payout'`.execute(db);
  await sql`delete from commerce.ledger_journals where kind = 'payout'`.execute(db);
  await sql`
    alter table commerce.ledger_postings
      drop constraint ledger_postings_account_check,
      add constraint ledger_postings_account_check check (
        account in ('provider_clearing', 'platform_revenue', 'instructor_payable')
      )
  `.execute(db);
  await sql`
    alter table commerce.ledger_journals
      drop constraint ledger_journals_source,
      drop column payout_id,
      alter column order_id set not null,
      drop constraint ledger_journals_kind_check,
      add constraint ledger_journals_kind_check check (kind in ('sale', 'refund'))
  `.execute(db);
}
