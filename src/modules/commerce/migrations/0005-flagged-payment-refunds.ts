import { type Kysely, sql } from 'kysely';

/**
 * Money that arrived where it cannot be kept (a payment into a closed order, a second payment of
 * a paid order) goes back through the refund path: a refund of kind `flagged-payment`, asked for
 * by the system (no user: `requested_by` is null), at most one per payment (the partial unique index), and settled without touching
 * the order or the ledger (nothing was sold).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table commerce.refunds
      add column kind text not null default 'order' check (kind in ('order', 'flagged-payment')),
      drop constraint refunds_requested_by_kind_check,
      add constraint refunds_requested_by_kind_check check (requested_by_kind in ('user', 'admin', 'system')),
      alter column requested_by drop not null,
      add constraint refunds_requested_by_system check ((requested_by_kind = 'system') = (requested_by is null))
  `.execute(db);
  await sql`
    create unique index refunds_flagged_payment_once on commerce.refunds (payment_id)
    where kind = 'flagged-payment'
  `.execute(db);
  // the stuck-refund check reads approved and sent refunds by age
  await sql`
    create index refunds_in_flight_idx on commerce.refunds (updated_at)
    where status in ('approved', 'sent')
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index commerce.refunds_in_flight_idx`.execute(db);
  await sql`drop index commerce.refunds_flagged_payment_once`.execute(db);
  await sql`
    alter table commerce.refunds
      drop constraint refunds_requested_by_system,
      alter column requested_by set not null,
      drop column kind,
      drop constraint refunds_requested_by_kind_check,
      add constraint refunds_requested_by_kind_check check (requested_by_kind in ('user', 'admin'))
  `.execute(db);
}
