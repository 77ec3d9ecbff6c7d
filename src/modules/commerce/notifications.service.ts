import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { Sealer } from '../../platform/crypto.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { OrderPaidEvent } from './commerce.events.js';
import type { LedgerService } from './ledger.service.js';
import { transitionOrder } from './order-state.js';
import {
  lockOrderAndPayment,
  recordNotification,
  updatePayment,
  updatePaymentWithTxn,
} from './payments.queries.js';
import type { ProviderName, VerifiedNotification } from './providers/provider.js';
import type { RefundsService } from './refunds.service.js';
import type { CommerceTables, NotificationOutcome } from './tables.js';
import { isUuid } from '../../platform/ids.js';

type Db = Kysely<CommerceTables>;

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
  /** Books the sale's split (instructors, platform) in the paid transaction. */
  ledger: Pick<LedgerService, 'recordSale'>;
  /** Settles refunds from `refund.succeeded` / `refund.failed` (the refunds area); ignored without it. */
  refunds?: () => Pick<RefundsService, 'applyNotification'>;
  /** Sends the job that gives a flagged payment's money back, in the transaction that flags it. */
  giveBack?: (trx: Transaction<CommerceTables>, paymentId: string) => Promise<unknown>;
}) {
  const { db, clock, sealer, ledger } = deps;

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
        fields: JSON.stringify({
          amount: n.amount.amount,
          currency: n.amount.currency,
          merchant: n.merchant,
          occurredAt: n.occurredAt.toISOString(),
          paymentId: n.paymentId,
          ...(n.refundId ? { refundId: n.refundId } : {}),
        }),
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
    const { order, payment, lines } = locked;

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

    const paidFields = {
      status: 'succeeded' as const,
      provider_txn_id: n.providerTxnId,
      succeeded_at: n.occurredAt,
      updated_at: now,
      // bound to the payment: a sealed payer copied onto another row does not open
      ...(n.payer ? { payer_sealed: sealer.seal(n.payer, payment.id) } : {}),
    };
    if (order.status !== 'pending') {
      // money for an order that can no longer take it: keep the record, never grant; refund it
      const reason =
        order.status === 'paid'
          ? 'order already paid by another payment'
          : `payment arrived for a ${order.status} order`;
      if (
        !(await updatePaymentWithTxn(trx, payment.id, { ...paidFields, flagged: true, flag_reason: reason }))
      )
        return heldElsewhere();
      const flagged = await result('flagged', reason);
      // the money is held for nothing: give it back (a duplicate of this notification sends no second job)
      if (flagged.outcome === 'flagged') await deps.giveBack?.(trx, payment.id);
      return flagged;
    }
    if (!(await updatePaymentWithTxn(trx, payment.id, paidFields))) return heldElsewhere();
    const paid = await transitionOrder(trx, {
      orderId: order.id,
      from: ['pending'],
      to: 'paid',
      actor: { kind: 'provider', id: provider },
      reason: `payment ${payment.id} succeeded`,
      at: now,
      set: { paid_at: now, provider },
      locked: order,
    });
    await ledger.recordSale(trx, {
      orderId: paid.id,
      currency: paid.currency,
      occurredAt: now,
      lines: lines.map((l) => ({ courseId: l.course_id, amount: l.amount, instructorIds: l.instructor_ids })),
    });
    await enqueue(trx, 'commerce', [
      OrderPaidEvent.create(paid.id, {
        orderId: paid.id,
        userId: paid.user_id,
        lines: lines.map((l) => ({
          courseId: l.course_id,
          title: l.title,
          amount: l.amount,
          instructorIds: l.instructor_ids,
        })),
        total: paid.total,
        currency: paid.currency,
        provider,
        paidAt: now.toISOString(),
      }),
    ]);
    return result('applied');
  }

  return {
    /** Apply a notification the provider's adapter verified; commits before the caller acknowledges. */
    handle(provider: ProviderName, n: VerifiedNotification): Promise<NotificationResult> {
      return db.transaction().execute((trx) => apply(trx, provider, n));
    },
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
