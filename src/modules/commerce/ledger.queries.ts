import { type Insertable, type Kysely, type QueryCreator, sql } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import type { CommerceTables, JournalKind, LedgerJournalTable, LedgerPostingTable } from './tables.js';

type Db = Kysely<CommerceTables>;

/** Inserts the journal unless its source was booked already; undefined then. */
export function insertJournal(db: Db, values: Insertable<LedgerJournalTable>) {
  return db
    .insertInto('commerce.ledger_journals')
    .values(values)
    .onConflict((oc) => oc.column('source_key').doNothing())
    .returning('id')
    .executeTakeFirst();
}

/**
 * A journal and its postings in one statement, unless the journal's source was booked already
 * (then nothing is written and false comes back).
 */
export async function insertJournalWithPostings(
  db: Db,
  journal: Insertable<LedgerJournalTable>,
  postings: Omit<Insertable<LedgerPostingTable>, 'journal_id'>[],
): Promise<boolean> {
  const [row] = await journalWithPostings(db, { journal, postings: JSON.stringify(postings) });
  return row?.booked === true;
}

const journalWithPostings = preparedStatement(
  'commerce.ledger.journal-with-postings',
  (db: Db, a: { journal: Insertable<LedgerJournalTable>; postings: string }) =>
    db
      .with('j', (qb) =>
        qb
          .insertInto('commerce.ledger_journals')
          .values(a.journal)
          .onConflict((oc) => oc.column('source_key').doNothing())
          .returning('id'),
      )
      .with('p', (qb) => postingsOfJournal(qb, 'j', a.postings))
      .selectNoFrom(sql<boolean>`exists (select 1 from j)`.as('booked')),
);

/**
 * A data-modifying CTE's insert of a journal's postings (`postings`: their rows as a JSON array),
 * the journal's id taken from the statement's CTE `journal` (nothing when it inserted no journal).
 */
export function postingsOfJournal(qb: QueryCreator<CommerceTables>, journal: string, postings: string) {
  return qb
    .insertInto('commerce.ledger_postings')
    .columns(['journal_id', 'account', 'instructor_id', 'course_id', 'amount', 'currency', 'occurred_at'])
    .expression(
      sql`select j.id, r.account, r.instructor_id, r.course_id, r.amount, r.currency, r.occurred_at
        from ${sql.table(journal)} as j cross join jsonb_to_recordset(${postings}::jsonb)
          as r(account text, instructor_id uuid, course_id uuid, amount bigint, currency text, occurred_at timestamptz)`,
    )
    .returning('id');
}

export async function insertPostings(db: Db, rows: Insertable<LedgerPostingTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('commerce.ledger_postings').values(rows).execute();
}

/** The sale postings of one course of an order: what a refund of it reverses in proportion. */
export function salePostingsOf(db: Db, orderId: string, courseId: string) {
  return db
    .selectFrom('commerce.ledger_postings as p')
    .innerJoin('commerce.ledger_journals as j', 'j.id', 'p.journal_id')
    .select(['p.account', 'p.instructor_id', 'p.amount'])
    .where('j.source_key', '=', `sale:${orderId}`)
    .where('p.course_id', '=', courseId)
    .orderBy('p.id')
    .execute();
}

/** The platform fee rate the order's sale was booked at; undefined when it was never booked. */
export async function saleFeeBpsOf(db: Db, orderId: string): Promise<number | undefined> {
  const row = await db
    .selectFrom('commerce.ledger_journals')
    .select('fee_bps')
    .where('source_key', '=', `sale:${orderId}`)
    .executeTakeFirst();
  return row?.fee_bps;
}

/** How much of one course of an order was refunded so far (the provider clearing credits). */
export async function refundedOfLine(db: Db, orderId: string, courseId: string): Promise<number> {
  const row = await db
    .selectFrom('commerce.ledger_postings as p')
    .innerJoin('commerce.ledger_journals as j', 'j.id', 'p.journal_id')
    .select(sql<number>`coalesce(-sum(p.amount), 0)::bigint`.as('refunded'))
    .where('j.order_id', '=', orderId)
    .where('j.kind', '=', 'refund')
    .where('p.course_id', '=', courseId)
    .where('p.account', '=', 'provider_clearing')
    .executeTakeFirstOrThrow();
  return row.refunded;
}

export interface Period {
  from?: Date | undefined;
  to?: Date | undefined;
}

/**
 * The journals that make an instructor's earnings: sales' shares less refunds. A payout pays
 * earnings out, it does not lower them, so every earnings read (reports, the export) leaves it out.
 */
export const EARNING_KINDS = ['sale', 'refund'] as const satisfies readonly JournalKind[];

/** An instructor's postings summed by currency: sales (credits of sale journals) and refunds. */
export function earningsOf(db: Db, instructorId: string, period: Period) {
  let q = db
    .selectFrom('commerce.ledger_postings as p')
    .innerJoin('commerce.ledger_journals as j', 'j.id', 'p.journal_id')
    .select([
      'p.currency',
      sql<number>`coalesce(-sum(p.amount) filter (where j.kind = 'sale'), 0)::bigint`.as('sales'),
      sql<number>`coalesce(sum(p.amount) filter (where j.kind = 'refund'), 0)::bigint`.as('refunds'),
      sql<number>`(-sum(p.amount))::bigint`.as('net'),
    ])
    .where('p.account', '=', 'instructor_payable')
    .where('p.instructor_id', '=', instructorId)
    .where('j.kind', 'in', EARNING_KINDS);
  if (period.from) q = q.where('p.occurred_at', '>=', period.from);
  if (period.to) q = q.where('p.occurred_at', '<', period.to);
  return q.groupBy('p.currency').orderBy('p.currency').execute();
}

/** Every instructor's earnings by currency, a page at a time in (instructor, currency) order. */
export function earningsByInstructor(
  db: Db,
  period: Period,
  page: { limit: number; after?: { instructorId: string; currency: string } | undefined },
) {
  let q = db
    .selectFrom('commerce.ledger_postings as p')
    .innerJoin('commerce.ledger_journals as j', 'j.id', 'p.journal_id')
    .select([
      sql<string>`p.instructor_id`.as('instructor_id'),
      'p.currency',
      sql<number>`coalesce(-sum(p.amount) filter (where j.kind = 'sale'), 0)::bigint`.as('sales'),
      sql<number>`coalesce(sum(p.amount) filter (where j.kind = 'refund'), 0)::bigint`.as('refunds'),
      sql<number>`(-sum(p.amount))::bigint`.as('net'),
    ])
    .where('p.account', '=', 'instructor_payable')
    .where('j.kind', 'in', EARNING_KINDS);
  if (period.from) q = q.where('p.occurred_at', '>=', period.from);
  if (period.to) q = q.where('p.occurred_at', '<', period.to);
  if (page.after) {
    q = q.where(
      sql<boolean>`(p.instructor_id, p.currency) > (${page.after.instructorId}::uuid, ${page.after.currency})`,
    );
  }
  return q
    .groupBy(['p.instructor_id', 'p.currency'])
    .orderBy('p.instructor_id')
    .orderBy('p.currency')
    .limit(page.limit + 1)
    .execute();
}

/** Balances by account and currency (instructor payables summed over instructors). */
export function balances(db: Db, asOf: Date | undefined) {
  let q = db
    .selectFrom('commerce.ledger_postings')
    .select(['account', 'currency', sql<number>`sum(amount)::bigint`.as('balance')]);
  if (asOf) q = q.where('occurred_at', '<', asOf);
  return q.groupBy(['account', 'currency']).orderBy('currency').orderBy('account').execute();
}

/** Journals whose postings do not sum to zero in some currency: always none. */
export async function unbalancedJournals(db: Db): Promise<number> {
  const row = await db
    .selectFrom(
      db
        .selectFrom('commerce.ledger_postings')
        .select(['journal_id', 'currency'])
        .groupBy(['journal_id', 'currency'])
        .having(sql<number>`sum(amount)`, '!=', 0)
        .as('u'),
    )
    .select(sql<number>`count(*)::int`.as('n'))
    .executeTakeFirstOrThrow();
  return row.n;
}
