import type { Kysely } from 'kysely';
import { type Clock, addSeconds } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import type { CompleteInTransaction } from '../../platform/http/idempotency.js';
import type { Page } from '../../platform/http/pagination.js';
import { isUuid } from '../../platform/ids.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { isCurrency } from '../../platform/money.js';
import { PayoutRefused } from './commerce.errors.js';
import { PayoutPaidEvent, PayoutRejectedEvent } from './commerce.events.js';
import type { LedgerService } from './ledger.service.js';
import type { TransitionActor } from './order-state.js';
import { type Actor, pageOf } from './orders.service.js';
import {
  findPayout,
  insertPayout,
  insertPayoutTransition,
  listPayouts,
  lockPayout,
  lockPayoutBalance,
  type PayoutBalanceRow,
  payoutBalances,
  type PayoutFilter,
  type PayoutRow,
  payoutTransitionsOf,
  updatePayout,
} from './payouts.queries.js';
import type { PayoutBalanceView, PayoutView } from './payouts.schemas.js';
import type { CommerceTables, PayoutStatus } from './tables.js';

type Db = Kysely<CommerceTables>;

const DAY_SECONDS = 24 * 3600;

export interface PayoutsServiceDeps {
  db: Db;
  clock: Clock;
  ledger: Pick<LedgerService, 'recordPayout'>;
  /** The refund window (COMMERCE_REFUND_WINDOW_DAYS): a share of a sale is paid out only after it. */
  windowDays: number;
}

/**
 * available = matured credits − every debit − outstanding requests: a share of a sale becomes
 * available once the refund window has passed (a learner can no longer take it back by rule),
 * while anything that lowers the payable (a refund's reversal, a payout) counts at once, and
 * requests not yet decided hold their amount.
 */
function toBalance(r: PayoutBalanceRow): PayoutBalanceView {
  return {
    currency: r.currency,
    earned: r.credits - r.refunded,
    pending: r.pending,
    reserved: r.reserved,
    paidOut: r.paidOut,
    available: r.credits - r.pending - r.debits - r.reserved,
  };
}

/**
 * Instructor payouts (结算/提现): an instructor asks for part of what is available to them, an
 * admin pays it by bank transfer outside Lectern and marks it paid (booking the ledger's
 * `payout:<id>` journal) or rejects it; the instructor may cancel it while it is requested.
 */
export function createPayoutsService(deps: PayoutsServiceDeps) {
  const { db, clock, windowDays } = deps;

  const maturedBefore = (now: Date) => addSeconds(now, -windowDays * DAY_SECONDS);

  async function viewsIn(handle: Db, rows: PayoutRow[], forAdmin: boolean): Promise<PayoutView[]> {
    const transitions = await payoutTransitionsOf(
      handle,
      rows.map((r) => r.id),
    );
    return rows.map((r) => ({
      id: r.id,
      instructorId: r.instructor_id,
      amount: { amount: r.amount, currency: r.currency },
      status: r.status,
      reference: r.reference,
      rejectionReason: r.rejection_reason,
      // the admin's id is theirs, not the instructor's to see
      ...(forAdmin ? { decidedBy: r.decided_by } : {}),
      decidedAt: r.decided_at ? r.decided_at.toISOString() : null,
      createdAt: r.created_at.toISOString(),
      updatedAt: r.updated_at.toISOString(),
      transitions: transitions
        .filter((t) => t.payout_id === r.id)
        .map((t) => ({
          from: t.from_status,
          to: t.to_status,
          actorKind: t.actor_kind,
          reason: t.reason,
          at: t.at.toISOString(),
        })),
    }));
  }

  async function viewIn(handle: Db, row: PayoutRow, forAdmin: boolean): Promise<PayoutView> {
    const [view] = await viewsIn(handle, [row], forAdmin);
    if (!view) throw new Error(`payout ${row.id}: no view`);
    return view;
  }

  /** Move a locked, requested payout to `to` with its log row. */
  async function move(
    trx: Db,
    payout: PayoutRow,
    to: PayoutStatus,
    actor: TransitionActor,
    reason: string,
    at: Date,
    set: Parameters<typeof updatePayout>[2] = {},
  ): Promise<PayoutRow> {
    const updated = await updatePayout(trx, payout.id, {
      ...set,
      status: to,
      decided_at: at,
      updated_at: at,
    });
    await insertPayoutTransition(trx, {
      payout_id: payout.id,
      from_status: payout.status,
      to_status: to,
      actor_kind: actor.kind,
      actor_id: actor.id,
      reason,
      at,
    });
    return updated;
  }

  /** Lock a payout for a decision; only a requested one may be decided (a 409 writes nothing). */
  async function lockRequested(trx: Db, payoutId: string, owner?: string): Promise<PayoutRow> {
    const payout = isUuid(payoutId) ? await lockPayout(trx, payoutId) : undefined;
    if (!payout || (owner !== undefined && payout.instructor_id !== owner)) throw PayoutRefused.notFound();
    if (payout.status !== 'requested') throw PayoutRefused.notRequested(payout.status);
    return payout;
  }

  return {
    async balance(instructorId: string): Promise<{ windowDays: number; balances: PayoutBalanceView[] }> {
      const rows = await payoutBalances(db, instructorId, maturedBefore(clock()));
      return { windowDays, balances: rows.map(toBalance) };
    },

    async request(
      actor: Actor,
      input: { amount: number; currency: string },
      complete?: CompleteInTransaction<PayoutView>,
    ): Promise<PayoutView> {
      if (!isCurrency(input.currency)) throw PayoutRefused.currency(input.currency);
      return inTransaction(db, async (trx) => {
        // serialises this instructor's requests in this currency; see lockPayoutBalance
        await lockPayoutBalance(trx, actor.userId, input.currency);
        const now = clock();
        const [row] = await payoutBalances(trx, actor.userId, maturedBefore(now), input.currency);
        const available = row ? toBalance(row).available : 0;
        if (input.amount > available) throw PayoutRefused.exceedsAvailable(available, input.currency);
        const payout = await insertPayout(trx, {
          instructor_id: actor.userId,
          amount: input.amount,
          currency: input.currency,
          status: 'requested',
          created_at: now,
          updated_at: now,
        });
        await insertPayoutTransition(trx, {
          payout_id: payout.id,
          from_status: null,
          to_status: 'requested',
          actor_kind: 'user',
          actor_id: actor.userId,
          reason: 'requested by the instructor',
          at: now,
        });
        const view = await viewIn(trx, payout, false);
        await complete?.(trx, view);
        return view;
      });
    },

    /** The instructor withdraws their own request while it is still requested. */
    async cancel(
      actor: Actor,
      payoutId: string,
      complete?: CompleteInTransaction<PayoutView>,
    ): Promise<PayoutView> {
      return inTransaction(db, async (trx) => {
        const payout = await lockRequested(trx, payoutId, actor.userId);
        const updated = await move(
          trx,
          payout,
          'cancelled',
          { kind: 'user', id: actor.userId },
          'cancelled by the instructor',
          clock(),
        );
        const view = await viewIn(trx, updated, false);
        await complete?.(trx, view);
        return view;
      });
    },

    /**
     * The admin transferred the money (outside Lectern): the payout is paid with the transfer's
     * reference, the ledger books `payout:<id>`, and `commerce.payout.paid` goes to the outbox, all
     * in one transaction with the answer to an Idempotency-Key (`complete`), so a retry after a lost
     * answer replays it instead of meeting a 409.
     */
    async markPaid(
      actor: Actor,
      payoutId: string,
      reference: string,
      complete?: CompleteInTransaction<PayoutView>,
    ): Promise<PayoutView> {
      return inTransaction(db, async (trx) => {
        const payout = await lockRequested(trx, payoutId);
        const now = clock();
        const journalId = await deps.ledger.recordPayout(trx, {
          payoutId: payout.id,
          instructorId: payout.instructor_id,
          amount: payout.amount,
          currency: payout.currency,
          occurredAt: now,
        });
        // the row lock and the status check make this unreachable; never book a payout twice
        if (!journalId) throw new Error(`payout ${payout.id} was booked already`);
        const updated = await move(
          trx,
          payout,
          'paid',
          { kind: 'admin', id: actor.userId },
          `paid by bank transfer ${reference}`,
          now,
          { reference, decided_by: actor.userId, journal_id: journalId },
        );
        await enqueue(trx, 'commerce', [
          PayoutPaidEvent.create(payout.id, {
            payoutId: payout.id,
            instructorId: payout.instructor_id,
            amount: payout.amount,
            currency: payout.currency,
            reference,
            paidAt: now.toISOString(),
          }),
        ]);
        const view = await viewIn(trx, updated, true);
        await complete?.(trx, view);
        return view;
      });
    },

    /** The admin refuses the request; its amount is available again. */
    async reject(
      actor: Actor,
      payoutId: string,
      reason: string,
      complete?: CompleteInTransaction<PayoutView>,
    ): Promise<PayoutView> {
      return inTransaction(db, async (trx) => {
        const payout = await lockRequested(trx, payoutId);
        const now = clock();
        const updated = await move(
          trx,
          payout,
          'rejected',
          { kind: 'admin', id: actor.userId },
          reason,
          now,
          {
            rejection_reason: reason,
            decided_by: actor.userId,
          },
        );
        await enqueue(trx, 'commerce', [
          PayoutRejectedEvent.create(payout.id, {
            payoutId: payout.id,
            instructorId: payout.instructor_id,
            amount: payout.amount,
            currency: payout.currency,
            reason,
            rejectedAt: now.toISOString(),
          }),
        ]);
        const view = await viewIn(trx, updated, true);
        await complete?.(trx, view);
        return view;
      });
    },

    async list(
      filter: PayoutFilter,
      page: { limit?: number | undefined; cursor?: string | undefined },
      forAdmin: boolean,
    ): Promise<Page<PayoutView>> {
      return pageOf(
        page,
        (p) => listPayouts(db, filter, p),
        (rows) => viewsIn(db, rows, forAdmin),
      );
    },

    /** One payout: the instructor's own (another's id is a 404), or any for an admin. */
    async get(actor: Actor, payoutId: string, forAdmin: boolean): Promise<PayoutView> {
      const payout = isUuid(payoutId) ? await findPayout(db, payoutId) : undefined;
      if (!payout || (!forAdmin && payout.instructor_id !== actor.userId)) throw PayoutRefused.notFound();
      return viewIn(db, payout, forAdmin);
    },
  };
}

export type PayoutsService = ReturnType<typeof createPayoutsService>;
