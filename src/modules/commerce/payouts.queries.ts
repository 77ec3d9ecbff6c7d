import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { newestFirst } from './orders.queries.js';
import type { CommerceTables, PayoutStatus, PayoutTable, PayoutTransitionTable } from './tables.js';

type Db = Kysely<CommerceTables>;
export type PayoutRow = Selectable<PayoutTable>;
export type PayoutTransitionRow = Selectable<PayoutTransitionTable>;

/**
 * First key of the payout lock: advisory locks of two int4 keys never meet those of one int8 key
 * (the migration runner's, pg-boss's), and this fixed first key keeps them apart from learning's
 * and community's two-key locks. The second key is `hashtext` of instructor and currency; two
 * pairs sharing a hash only wait for each other.
 */
const PAYOUT_LOCK_SPACE = 0x63706179; // "cpay": commerce payouts

/**
 * Take the instructor's payout lock for this currency until the transaction ends: requests of one
 * instructor and currency run one at a time, so the balance each reads (a new snapshot per
 * statement under READ COMMITTED) counts every request committed before it, and two can never
 * reserve the same money.
 */
export async function lockPayoutBalance(db: Db, instructorId: string, currency: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(PAYOUT_LOCK_SPACE)}, hashtext(${`${instructorId}:${currency}`}))`.execute(
    db,
  );
}

export interface PayoutBalanceRow {
  currency: string;
  /** Credits to the instructor's payable (their shares of sales), all ages, as a positive amount. */
  credits: number;
  /** Of those, the credits booked after `maturedBefore`: still inside the refund window. */
  pending: number;
  /** Debits of the payable by refund journals (shares taken back), any age. */
  refunded: number;
  /** Debits of the payable by payout journals (paid out). */
  paidOut: number;
  /** Every debit of the payable, any age. */
  debits: number;
  /** What the instructor's requested (not yet paid, rejected or cancelled) payouts hold. */
  reserved: number;
}

/**
 * The instructor's payable and reservations by currency, in one statement: one snapshot, so a
 * payout marked paid meanwhile (reservation gone, debit booked, in one commit) is counted once,
 * never neither or both.
 */
export async function payoutBalances(
  db: Db,
  instructorId: string,
  maturedBefore: Date,
  currency?: string,
): Promise<PayoutBalanceRow[]> {
  const only = currency === undefined ? sql`true` : sql`coalesce(l.currency, h.currency) = ${currency}`;
  const { rows } = await sql<PayoutBalanceRow>`
    with ledger as (
      select p.currency,
        coalesce(-sum(p.amount) filter (where p.amount < 0), 0)::bigint as credits,
        coalesce(-sum(p.amount) filter (where p.amount < 0 and p.occurred_at > ${maturedBefore}), 0)::bigint as pending,
        coalesce(sum(p.amount) filter (where p.amount > 0 and j.kind = 'refund'), 0)::bigint as refunded,
        coalesce(sum(p.amount) filter (where p.amount > 0 and j.kind = 'payout'), 0)::bigint as paid_out,
        coalesce(sum(p.amount) filter (where p.amount > 0), 0)::bigint as debits
      from commerce.ledger_postings p
      join commerce.ledger_journals j on j.id = p.journal_id
      where p.account = 'instructor_payable' and p.instructor_id = ${instructorId}
      group by p.currency
    ),
    held as (
      select currency::text as currency, sum(amount)::bigint as reserved
      from commerce.payouts
      where instructor_id = ${instructorId} and status = 'requested'
      group by currency
    )
    select coalesce(l.currency, h.currency) as currency,
      coalesce(l.credits, 0)::bigint as credits,
      coalesce(l.pending, 0)::bigint as pending,
      coalesce(l.refunded, 0)::bigint as refunded,
      coalesce(l.paid_out, 0)::bigint as "paidOut",
      coalesce(l.debits, 0)::bigint as debits,
      coalesce(h.reserved, 0)::bigint as reserved
    from ledger l full join held h on h.currency = l.currency
    where ${only}
    order by 1`.execute(db);
  return rows;
}

export async function insertPayout(db: Db, row: Insertable<PayoutTable>): Promise<PayoutRow> {
  return db.insertInto('commerce.payouts').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function findPayout(db: Db, payoutId: string): Promise<PayoutRow | undefined> {
  return db.selectFrom('commerce.payouts').selectAll().where('id', '=', payoutId).executeTakeFirst();
}

/** Lock a payout row: its decisions (paid, rejected, cancelled) run one at a time. */
export async function lockPayout(db: Db, payoutId: string): Promise<PayoutRow | undefined> {
  return db
    .selectFrom('commerce.payouts')
    .selectAll()
    .where('id', '=', payoutId)
    .forUpdate()
    .executeTakeFirst();
}

export async function updatePayout(
  db: Db,
  payoutId: string,
  set: Updateable<PayoutTable>,
): Promise<PayoutRow> {
  return db
    .updateTable('commerce.payouts')
    .set(set)
    .where('id', '=', payoutId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function insertPayoutTransition(db: Db, row: Insertable<PayoutTransitionTable>): Promise<void> {
  await db.insertInto('commerce.payout_transitions').values(row).execute();
}

export async function payoutTransitionsOf(
  db: Db,
  payoutIds: readonly string[],
): Promise<PayoutTransitionRow[]> {
  if (payoutIds.length === 0) return [];
  return db
    .selectFrom('commerce.payout_transitions')
    .selectAll()
    .where('payout_id', 'in', payoutIds)
    .orderBy('id')
    .execute();
}

export interface PayoutFilter {
  instructorId?: string | undefined;
  status?: PayoutStatus | undefined;
}

/** Payouts newest first, keyset-paged on (created_at, id). */
export async function listPayouts(
  db: Db,
  filter: PayoutFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<PayoutRow[]> {
  let q = db.selectFrom('commerce.payouts').selectAll();
  if (filter.instructorId !== undefined) q = q.where('instructor_id', '=', filter.instructorId);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  return newestFirst(q, page).execute();
}
