import type { Insertable, Kysely, Transaction } from 'kysely';
import { AppError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor, type Page } from '../../platform/http/pagination.js';
import { allocate, money, percentage } from '../../platform/money.js';
import { CommerceErrors } from './commerce.errors.js';
import {
  balances,
  earningsByInstructor,
  earningsOf,
  insertJournal,
  insertJournalWithPostings,
  saleFeeBpsOf,
  insertPostings,
  type Period,
  refundedOfLine,
  salePostingsOf,
  unbalancedJournals,
} from './ledger.queries.js';
import type { CommerceTables, LedgerAccount, LedgerJournalTable, LedgerPostingTable } from './tables.js';

type Db = Kysely<CommerceTables>;

export interface SaleLine {
  courseId: string;
  /** What the learner paid for this course, in minor units of the sale's currency. */
  amount: number;
  instructorIds: readonly string[];
}

export interface Sale {
  orderId: string;
  currency: string;
  occurredAt: Date;
  lines: readonly SaleLine[];
}

/** A sale's journal and postings as `saleEntry` makes them, for the statement that writes them. */
export interface SaleEntry {
  journal: Insertable<LedgerJournalTable> & { source_key: string; fee_bps: number };
  postings: Omit<Insertable<LedgerPostingTable>, 'journal_id'>[];
}

export interface RefundLine {
  courseId: string;
  amount: number;
}

export interface Earnings {
  currency: string;
  /** The instructors' share of sales in the period. */
  sales: number;
  /** Shares taken back by refunds in the period. */
  refunds: number;
  net: number;
}

export interface TrialBalance {
  accounts: { account: LedgerAccount; currency: string; balance: number }[];
  /** Per currency: the sum of every account's balance; zero in a sound ledger. */
  totals: { currency: string; balance: number }[];
  unbalancedJournals: number;
}

function checkPeriod(period: Period): void {
  if (period.from && period.to && period.from.getTime() > period.to.getTime()) {
    throw AppError.validation(CommerceErrors.reportRangeInvalid, '`from` must not be after `to`.', [
      { field: '/querystring/from', message: 'must not be after to' },
    ]);
  }
}

/**
 * The instructor-earnings ledger: double entry, debit positive and credit negative, every
 * journal summing to zero per currency. A sale debits the provider clearing account with what
 * was paid and credits the platform's fee and each instructor's share; a refund reverses those in
 * proportion; a payout debits the instructor's payable and credits `payout_clearing`. Journals are
 * keyed by their source (`sale:<order>`, `refund:<refund>`, `payout:<payout>`), so booking one
 * twice writes nothing the second time.
 */
export function createLedgerService(deps: { db: Db; platformFeeBps: number }) {
  const { db, platformFeeBps } = deps;

  /**
   * An order's sale as the ledger books it: the journal and its postings (provider clearing debited
   * with what was paid, the platform's fee and each instructor's share credited), not yet written.
   */
  function saleEntry(sale: Sale): SaleEntry {
    const postings: SaleEntry['postings'] = [];
    const post = (
      account: LedgerAccount,
      amount: number,
      courseId: string,
      instructorId: string | null = null,
    ) => {
      if (amount !== 0) {
        postings.push({
          account,
          instructor_id: instructorId,
          course_id: courseId,
          amount,
          currency: sale.currency,
          occurred_at: sale.occurredAt,
        });
      }
    };
    for (const line of sale.lines) {
      const paid = money(line.amount, sale.currency);
      if (paid.amount === 0) continue;
      // a course with nobody to pay keeps everything with the platform
      const fee = line.instructorIds.length === 0 ? paid : percentage(paid, platformFeeBps / 100, 'half-up');
      post('provider_clearing', paid.amount, line.courseId);
      post('platform_revenue', -fee.amount, line.courseId);
      if (line.instructorIds.length > 0) {
        const shares = allocate(
          money(paid.amount - fee.amount, sale.currency),
          line.instructorIds.map(() => 1),
        );
        line.instructorIds.forEach((instructorId, i) => {
          post('instructor_payable', -(shares[i]?.amount ?? 0), line.courseId, instructorId);
        });
      }
    }
    const journal = {
      kind: 'sale' as const,
      source_key: `sale:${sale.orderId}`,
      order_id: sale.orderId,
      refund_id: null,
      currency: sale.currency,
      fee_bps: platformFeeBps,
      occurred_at: sale.occurredAt,
    };
    return { journal, postings };
  }

  return {
    saleEntry,

    /**
     * Book an order's sale. Returns false when it was booked already. The paid notification books
     * its sale in its own settling statement from `saleEntry`; this is the same booking alone.
     */
    async recordSale(trx: Transaction<CommerceTables>, sale: Sale): Promise<boolean> {
      const { journal, postings } = saleEntry(sale);
      return insertJournalWithPostings(trx, journal, postings);
    },

    /**
     * Book a refund inside the transaction that records it as succeeded: each refunded line
     * takes back the fee and the instructors' shares in proportion to the sale. The reversal is
     * computed on the line's refunded total so far, so partial refunds that add up to the whole
     * line reverse the sale exactly, with no cent lost to rounding.
     */
    async recordRefund(
      trx: Kysely<CommerceTables>,
      refund: {
        refundId: string;
        orderId: string;
        currency: string;
        occurredAt: Date;
        lines: readonly RefundLine[];
      },
    ): Promise<boolean> {
      // the postings reverse the sale's own split, so the journal names the sale's rate, not today's
      const saleFeeBps = await saleFeeBpsOf(trx, refund.orderId);
      const journal = await insertJournal(trx, {
        kind: 'refund',
        source_key: `refund:${refund.refundId}`,
        order_id: refund.orderId,
        refund_id: refund.refundId,
        currency: refund.currency,
        fee_bps: saleFeeBps ?? platformFeeBps,
        occurred_at: refund.occurredAt,
      });
      if (!journal) return false;
      const rows: Insertable<LedgerPostingTable>[] = [];
      for (const line of refund.lines) {
        if (line.amount === 0) continue;
        const sale = await salePostingsOf(trx, refund.orderId, line.courseId);
        const clearing = sale.find((p) => p.account === 'provider_clearing');
        const credits = sale.filter((p) => p.account !== 'provider_clearing');
        if (!clearing || credits.length === 0) continue;
        const before = await refundedOfLine(trx, refund.orderId, line.courseId);
        const after = before + line.amount;
        if (after > clearing.amount) {
          throw new Error(`refund of ${line.courseId} in order ${refund.orderId} exceeds what was paid`);
        }
        const ratios = credits.map((p) => -p.amount);
        const split = (total: number) =>
          total === 0
            ? ratios.map(() => 0)
            : allocate(money(total, refund.currency), ratios).map((m) => m.amount);
        const upTo = split(after);
        const already = split(before);
        const base = {
          journal_id: journal.id,
          course_id: line.courseId,
          currency: refund.currency,
          occurred_at: refund.occurredAt,
        };
        rows.push({ ...base, account: 'provider_clearing', instructor_id: null, amount: -line.amount });
        credits.forEach((p, i) => {
          const amount = (upTo[i] ?? 0) - (already[i] ?? 0);
          if (amount !== 0)
            rows.push({ ...base, account: p.account, instructor_id: p.instructor_id, amount });
        });
      }
      await insertPostings(trx, rows);
      return true;
    },

    /**
     * Book a payout inside the transaction that marks it paid: the instructor's payable is debited
     * with what was transferred and `payout_clearing` credited. Keyed `payout:<id>`, so it is
     * booked once; returns the journal's id, or undefined when it was booked already.
     */
    async recordPayout(
      trx: Kysely<CommerceTables>,
      payout: { payoutId: string; instructorId: string; amount: number; currency: string; occurredAt: Date },
    ): Promise<string | undefined> {
      const amount = money(payout.amount, payout.currency).amount;
      const journal = await insertJournal(trx, {
        kind: 'payout',
        source_key: `payout:${payout.payoutId}`,
        order_id: null,
        refund_id: null,
        payout_id: payout.payoutId,
        currency: payout.currency,
        // a payout takes no fee; the sales' rate here read as if it had
        fee_bps: 0,
        occurred_at: payout.occurredAt,
      });
      if (!journal) return undefined;
      const base = {
        journal_id: journal.id,
        course_id: null,
        currency: payout.currency,
        occurred_at: payout.occurredAt,
      };
      await insertPostings(trx, [
        { ...base, account: 'instructor_payable', instructor_id: payout.instructorId, amount },
        { ...base, account: 'payout_clearing', instructor_id: null, amount: -amount },
      ]);
      return journal.id;
    },

    async instructorEarnings(instructorId: string, period: Period): Promise<Earnings[]> {
      checkPeriod(period);
      return earningsOf(db, instructorId, period);
    },

    async earningsByInstructor(
      period: Period,
      page: { limit: number; cursor?: string | undefined },
    ): Promise<Page<Earnings & { instructorId: string }>> {
      checkPeriod(period);
      const after = page.cursor ? decodeCursor(page.cursor, ['uuid', 'text']) : undefined;
      const rows = await earningsByInstructor(db, period, {
        limit: page.limit,
        after: after && { instructorId: String(after[0]), currency: String(after[1]) },
      });
      const kept = rows.slice(0, page.limit);
      const last = kept[kept.length - 1];
      return {
        data: kept.map((r) => ({
          instructorId: r.instructor_id,
          currency: r.currency,
          sales: r.sales,
          refunds: r.refunds,
          net: r.net,
        })),
        nextCursor:
          rows.length > page.limit && last ? encodeCursor([last.instructor_id, last.currency]) : null,
      };
    },

    async trialBalance(asOf?: Date): Promise<TrialBalance> {
      const rows = await balances(db, asOf);
      const totals = new Map<string, number>();
      for (const r of rows) totals.set(r.currency, (totals.get(r.currency) ?? 0) + r.balance);
      return {
        accounts: rows.map((r) => ({ account: r.account, currency: r.currency, balance: r.balance })),
        totals: [...totals].map(([currency, balance]) => ({ currency, balance })),
        unbalancedJournals: await unbalancedJournals(db),
      };
    },
  };
}

export type LedgerService = ReturnType<typeof createLedgerService>;
