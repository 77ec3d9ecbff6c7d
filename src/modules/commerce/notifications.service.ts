import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { Sealer } from '../../platform/crypto.js';
import { outboxRow } from '../../platform/messaging/outbox.js';
import { OrderPaidEvent } from './commerce.events.js';
import type { LedgerService } from './ledger.service.js';
import { isUniqueViolation } from '../../platform/db/pg-errors.js';
import {
  lockOrderAndPayment,
  type OrderAndPayment,
  readOrderAndPayment,
  recordNotification,
  updatePayment,
  updatePaymentWithTxn,
} from './payments.queries.js';
import { type PaidSettlement, settlePaid } from './settlement.queries.js';
import type { ProviderName, VerifiedNotification } from './providers/provider.js';
import type { RefundsService } from './refunds.service.js';
import type { CommerceTables, NotificationOutcome } from './tables.js';
import { isUuid } from '../../platform/ids.js';

type Db = Kysely<CommerceTables>;

/** What a recorded notification keeps of what it said: amounts, merchant, time, never the payer. */
const notificationFields = (n: VerifiedNotification): string =>
  JSON.stringify({
    amount: n.amount.amount,
    currency: n.amount.currency,
    merchant: n.merchant,
    occurredAt: n.occurredAt.toISOString(),
    paymentId: n.paymentId,
    ...(n.refundId ? { refundId: n.refundId } : {}),
  });

export interface NotificationResult {
  outcome: NotificationOutcome;
  flagReason?: string;
}

/**
 * Applies verified provider notifications (and the admin's query answers, through the same
 * path). One transaction per notification: record it once per (provider, notification id), check
 * it against the payment and the order, and settle the order with its paid event, or flag money
 * that arrived where it cannot be kept. The order row is locked before the payment row, the same
 * order every other writer of both takes.
 */
export function createNotificationsService(deps: {
  db: Db;
  clock: Clock;
  sealer: Sealer;
  /** The sale's split (instructors, platform), which the settling statement books. */
  ledger: Pick<LedgerService, 'saleEntry'>;
  /** Settles refunds from `refund.succeeded` / `refund.failed` (the refunds area); ignored without it. */
  refunds?: () => Pick<RefundsService, 'applyNotification'>;
  /** Sends the job that gives a flagged payment's money back, in the transaction that flags it. */
  giveBack?: (trx: Transaction<CommerceTables>, paymentId: string) => Promise<unknown>;
}) {
  const { db, clock, sealer, ledger } = deps;
  // bound to the payment: a sealed payer copied onto another row does not open
  const sealPayer = (payer: string, paymentId: string) => sealer.seal(payer, paymentId);

  async function apply(
    trx: Transaction<CommerceTables>,
    provider: ProviderName,
    n: VerifiedNotification,
  ): Promise<NotificationResult> {
    const now = clock();
    // the order row first, then the payment: the order every writer of both takes
    const locked = isUuid(n.paymentId) ? await lockOrderAndPayment(trx, n.paymentId) : undefined;
    const record = async (outcome: NotificationOutcome, flagReason?: string): Promise<boolean> =>
      recordNotification(trx, {
        provider,
        notification_id: n.notificationId,
        payment_id: locked?.payment.id ?? null,
        kind: n.kind,
        provider_txn_id: n.providerTxnId,
        fields: notificationFields(n),
        outcome,
        flagged: flagReason !== undefined,
        flag_reason: flagReason ?? null,
        received_at: now,
      });
    const result = async (outcome: NotificationOutcome, flagReason?: string): Promise<NotificationResult> => {
      // a notification id seen before: the first delivery's outcome stands
      if (!(await record(outcome, flagReason))) return { outcome: 'duplicate' };
      return { outcome, ...(flagReason ? { flagReason } : {}) };
    };

    if (!locked || locked.payment.provider !== provider)
      return result('rejected', 'no such payment for this provider');
    const { order, payment } = locked;

    if (n.kind === 'payment.closed') {
      if (payment.status === 'pending')
        await updatePayment(trx, payment.id, { status: 'closed', updated_at: now });
      return result(payment.status === 'pending' ? 'applied' : 'ignored');
    }
    if ((n.kind === 'refund.succeeded' || n.kind === 'refund.failed') && deps.refunds) {
      const settled = await deps.refunds().applyNotification(trx, payment, n, provider);
      return result(settled.outcome, settled.flagReason);
    }
    if (n.kind !== 'payment.succeeded') return result('ignored');

    if (n.amount.amount !== payment.amount || n.amount.currency !== payment.currency) {
      const reason = `paid ${n.amount.amount} ${n.amount.currency}, expected ${payment.amount} ${payment.currency}`;
      await updatePayment(trx, payment.id, { flagged: true, flag_reason: reason, updated_at: now });
      return result('flagged', reason);
    }
    if (payment.status === 'succeeded') {
      // the same money told again (Alipay's TRADE_FINISHED after TRADE_SUCCESS, a resend)
      if (payment.provider_txn_id === n.providerTxnId) return result('duplicate');
      return result('flagged', 'a second transaction for a settled payment');
    }
    const heldElsewhere = () => result('flagged', 'transaction id belongs to another payment');

    if (order.status !== 'pending') {
      // money for an order that can no longer take it: keep the record, never grant; refund it
      const reason =
        order.status === 'paid'
          ? 'order already paid by another payment'
          : `payment arrived for a ${order.status} order`;
      const kept = await updatePaymentWithTxn(trx, payment.id, {
        status: 'succeeded',
        provider_txn_id: n.providerTxnId,
        succeeded_at: n.occurredAt,
        updated_at: now,
        ...(n.payer ? { payer_sealed: sealPayer(n.payer, payment.id) } : {}),
        flagged: true,
        flag_reason: reason,
      });
      if (!kept) return heldElsewhere();
      const flagged = await result('flagged', reason);
      // the money is held for nothing: give it back (a duplicate of this notification sends no second job)
      if (flagged.outcome === 'flagged') await deps.giveBack?.(trx, payment.id);
      return flagged;
    }
    const settled = await settlePaid(trx, settlement(provider, n, locked, now));
    // under both locks and after the checks above, only a transaction id held elsewhere stops it
    if (!settled.matched) throw new Error(`payment ${payment.id} changed under its lock`);
    if (!settled.paid) return heldElsewhere();
    return { outcome: settled.recorded ? 'applied' : 'duplicate' };
  }

  /** What settles the order of a payment this notification pays, made before the statement. */
  function settlement(
    provider: ProviderName,
    n: VerifiedNotification,
    { order, payment, lines }: OrderAndPayment,
    now: Date,
  ): PaidSettlement {
    const { journal, postings } = ledger.saleEntry({
      orderId: order.id,
      currency: order.currency,
      occurredAt: now,
      lines: lines.map((l) => ({ courseId: l.course_id, amount: l.amount, instructorIds: l.instructor_ids })),
    });
    const event = outboxRow(
      OrderPaidEvent.create(order.id, {
        orderId: order.id,
        userId: order.user_id,
        lines: lines.map((l) => ({
          courseId: l.course_id,
          title: l.title,
          amount: l.amount,
          instructorIds: l.instructor_ids,
        })),
        total: order.total,
        currency: order.currency,
        provider,
        paidAt: now.toISOString(),
      }),
    );
    return {
      paymentId: payment.id,
      orderId: order.id,
      provider,
      amount: n.amount.amount,
      currency: n.amount.currency,
      providerTxnId: n.providerTxnId,
      succeededAt: n.occurredAt,
      payerSealed: n.payer ? sealPayer(n.payer, payment.id) : null,
      at: now,
      reason: `payment ${payment.id} succeeded`,
      journal,
      postings: JSON.stringify(postings),
      event,
      notification: {
        notification_id: n.notificationId,
        kind: n.kind,
        fields: notificationFields(n),
        outcome: 'applied',
      },
    };
  }

  /**
   * The common case in one statement, without a transaction around it: a payment's first success,
   * of the amount it expects, for its pending order. Read unlocked, it is checked again by the
   * statement under its locks; anything else, or a race lost on the way, is undefined and goes
   * through `apply`, which decides every other case.
   */
  async function settleAtOnce(
    provider: ProviderName,
    n: VerifiedNotification,
  ): Promise<NotificationResult | undefined> {
    if (n.kind !== 'payment.succeeded' || !isUuid(n.paymentId)) return undefined;
    const read = await readOrderAndPayment(db, n.paymentId);
    if (
      !read ||
      read.payment.provider !== provider ||
      read.payment.status === 'succeeded' ||
      read.order.status !== 'pending' ||
      n.amount.amount !== read.payment.amount ||
      n.amount.currency !== read.payment.currency
    )
      return undefined;
    try {
      const settled = await settlePaid(db, settlement(provider, n, read, clock()));
      if (!settled.paid) return undefined;
      return { outcome: settled.recorded ? 'applied' : 'duplicate' };
    } catch (err) {
      // the transaction id was taken by another payment after the statement began: apply flags it
      if (isUniqueViolation(err)) return undefined;
      throw err;
    }
  }

  return {
    /** Apply a notification the provider's adapter verified; commits before the caller acknowledges. */
    async handle(provider: ProviderName, n: VerifiedNotification): Promise<NotificationResult> {
      return (await settleAtOnce(provider, n)) ?? db.transaction().execute((trx) => apply(trx, provider, n));
    },
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
