import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { Metrics } from '../../platform/observability/metrics.js';
import { addSeconds, type Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import type { CompleteInTransaction } from '../../platform/http/idempotency.js';
import type { Page } from '../../platform/http/pagination.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { allocate, money } from '../../platform/money.js';
import { OrderRefundedEvent } from './commerce.events.js';
import { CommerceErrors, NotFound, RefundRefused } from './commerce.errors.js';
import type { LedgerService } from './ledger.service.js';
import type { NotificationResult } from './notifications.service.js';
import { type OrderRow, type TransitionActor, transitionOrder } from './order-state.js';
import { isUniqueViolation } from '../../platform/db/pg-errors.js';
import { findOrder, linesOf, lockOrder, lockOrderOfPayment } from './orders.queries.js';
import { type Actor, isAdmin, pageOf } from './orders.service.js';
import { findPayment, lockPayment, type PaymentRow } from './payments.queries.js';
import type { Transport, VerifiedNotification } from './providers/provider.js';
import { ProviderError, ProviderErrors } from './providers/provider.errors.js';
import type { PaymentProviders } from './providers/providers.js';
import type { SendRefundJob } from './jobs.js';
import {
  findRefund,
  flaggedPaymentRefund,
  refundsInFlightSince,
  insertRefund,
  insertRefundLines,
  insertRefundTransition,
  lineRefundTotals,
  listRefunds,
  lockRefund,
  moveBalances,
  type RefundFilter,
  type RefundRow,
  refundLinesOf,
  refundTransitionsOf,
  settlingPayment,
  succeededOfOrder,
  updateRefund,
} from './refunds.queries.js';
import type { RefundView } from './refunds.schemas.js';
import { type CommerceTables, HOLDING_STATUSES, type RefundStatus } from './tables.js';
import { isUuid } from '../../platform/ids.js';

type Db = Kysely<CommerceTables>;
type Trx = Transaction<CommerceTables>;

const DAY_SECONDS = 24 * 3600;
const REFUNDABLE = ['paid', 'partially_refunded'] as const;

export interface RefundsServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  jobs: JobQueue;
  sendJob: SendRefundJob;
  ledger: Pick<LedgerService, 'recordRefund'>;
  providers: PaymentProviders;
  /** learning's consumedShare (0..1); without it every learner request waits for an admin. */
  consumedShare?: ((userId: string, courseId: string) => Promise<number>) | undefined;
  windowDays: number;
  maxConsumedBps: number;
  /** Refunds approved or sent longer ago than this without the provider's answer are asked about. */
  stuckMinutes: number;
  metrics?: Metrics | undefined;
  transport?: Transport | undefined;
}

/** What the provider says of one of our refunds; `unknown` when it cannot say (or was not reachable). */
export type ProviderRefundStatus = 'pending' | 'succeeded' | 'failed' | 'unknown';

export interface RefundCheck {
  refundId: string;
  /** The refund's status after the check. */
  status: RefundStatus;
  providerStatus: ProviderRefundStatus;
  /** What the check changed: `applied` when it settled the refund. */
  outcome: NotificationResult['outcome'] | 'none';
}

const FLAGGED_REFUNDER = 'commerce.refund-flagged-payment';

export interface RefundInput {
  amount?: number | undefined;
  courseIds?: string[] | undefined;
  reason: string;
}

/** A check constraint refused the write: the balance guard (refunds above what was paid). */
const isCheckViolation = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === '23514';

/**
 * Refunds: asked for by the learner (approved by rule or by an admin) or made by an admin, sent
 * to the provider by a job, and settled by the provider's answer. Every write locks the order row
 * first, so concurrent requests of one order run one after another and never hold more than was
 * paid; the refund_balances check refuses it again at the database.
 */
export function createRefundsService(deps: RefundsServiceDeps) {
  const { db, clock, providers } = deps;
  const stuck = deps.metrics?.counter(
    'lectern_commerce_refunds_stuck_total',
    'Refunds still unsettled at the provider after COMMERCE_REFUND_STUCK_MINUTES, by provider',
    ['provider'],
  );

  async function views(rows: RefundRow[]): Promise<RefundView[]> {
    const ids = rows.map((r) => r.id);
    const [lines, transitions] = await Promise.all([refundLinesOf(db, ids), refundTransitionsOf(db, ids)]);
    return rows.map((r) => toView(r, lines, transitions));
  }

  async function viewIn(trx: Db, refund: RefundRow): Promise<RefundView> {
    const [lines, transitions] = await Promise.all([
      refundLinesOf(trx, [refund.id]),
      refundTransitionsOf(trx, [refund.id]),
    ]);
    return toView(refund, lines, transitions);
  }

  /** Move a locked refund to `to`, with its log row; the caller checked the from-state. */
  async function move(
    trx: Db,
    refund: RefundRow,
    to: RefundStatus,
    actor: TransitionActor,
    reason: string,
    at: Date,
    set: Parameters<typeof updateRefund>[2] = {},
  ): Promise<RefundRow> {
    const updated = await updateRefund(trx, refund.id, { ...set, status: to, updated_at: at });
    await insertRefundTransition(trx, {
      refund_id: refund.id,
      from_status: refund.status,
      to_status: to,
      actor_kind: actor.kind,
      actor_id: actor.id,
      reason,
      at,
    });
    return updated;
  }

  /** Give a refund's held amounts back (rejected or failed). */
  async function release(trx: Db, refund: RefundRow): Promise<void> {
    const lines = await refundLinesOf(trx, [refund.id]);
    await moveBalances(
      trx,
      refund.order_id,
      lines.map((l) => ({ courseId: l.course_id, paid: 0, amount: -l.amount })),
    );
  }

  async function create(
    actor: Actor,
    orderId: string,
    input: RefundInput,
    by: 'user' | 'admin',
    complete?: CompleteInTransaction<RefundView>,
  ): Promise<RefundView> {
    const now = clock();
    const order = await findOrder(db, orderId);
    if (!order || (by === 'user' && order.user_id !== actor.userId)) throw NotFound.order();
    const named = input.courseIds?.map((id) => id.toLowerCase());
    if (named && new Set(named).size !== named.length) {
      throw AppError.validation(
        CommerceErrors.refundDuplicateCourse,
        'A course appears twice in the refund.',
        [{ field: '/body/courseIds', message: 'must not repeat a course' }],
      );
    }
    const lines = await linesOf(db, [order.id]);
    const missing = named?.filter((id) => !lines.some((l) => l.course_id === id)) ?? [];
    if (missing.length > 0) {
      throw new AppError(
        'validation',
        CommerceErrors.refundCourseNotInOrder,
        'A course to refund is not part of this order.',
        { fields: [{ field: '/body/courseIds', message: `not in the order: ${missing.join(', ')}` }] },
      );
    }
    const covered = lines.filter((l) => !named || named.includes(l.course_id));
    const paidOfCovered = covered.reduce((sum, l) => sum + l.amount, 0);
    if (input.amount !== undefined && input.amount > paidOfCovered) {
      throw AppError.validation(
        CommerceErrors.refundExceedsPaid,
        `A refund cannot exceed what was paid (${paidOfCovered} minor units of ${order.currency}).`,
        [{ field: '/body/amount', message: `must not exceed ${paidOfCovered}` }],
      );
    }
    if (!(REFUNDABLE as readonly string[]).includes(order.status))
      throw RefundRefused.orderNotRefundable(order.status);

    // the learner's rule, asked of learning before any commerce transaction opens
    let review: string | null = null;
    let consumedBps: number | null = null;
    if (by === 'user') {
      const closesAt = addSeconds(order.paid_at ?? order.created_at, deps.windowDays * DAY_SECONDS);
      if (now.getTime() > closesAt.getTime()) throw RefundRefused.windowClosed(closesAt, deps.windowDays);
      if (!deps.consumedShare) {
        review = 'how much of the course was consumed cannot be asked here';
      } else {
        const ask = deps.consumedShare;
        const shares = await Promise.all(covered.map((l) => ask(order.user_id, l.course_id)));
        consumedBps = Math.round(Math.max(0, ...shares) * 10_000);
        if (consumedBps >= deps.maxConsumedBps) {
          review = `${consumedBps / 100}% of a course consumed; refunds by rule allow less than ${deps.maxConsumedBps / 100}%`;
        }
      }
    }

    const attempt = () =>
      inTransaction(db, async (trx) => {
        const locked = await lockOrder(trx, order.id);
        if (!locked) throw NotFound.order();
        if (!(REFUNDABLE as readonly string[]).includes(locked.status)) {
          throw RefundRefused.orderNotRefundable(locked.status);
        }
        const payment = await settlingPayment(trx, order.id);
        if (!payment) throw RefundRefused.orderNotRefundable(locked.status);
        const held = await lineRefundTotals(trx, order.id, HOLDING_STATUSES);
        const targets = covered.map((l) => ({
          courseId: l.course_id,
          paid: l.amount,
          left: l.amount - (held.get(l.course_id) ?? 0),
        }));
        const left = targets.reduce((sum, t) => sum + t.left, 0);
        if (left <= 0) throw RefundRefused.nothingLeft();
        const amount = input.amount ?? left;
        if (amount > left) throw RefundRefused.exceedsRemaining(left, order.currency);
        const positive = targets.filter((t) => t.left > 0);
        const split =
          amount === left
            ? positive.map((t) => t.left)
            : allocate(
                money(amount, order.currency),
                positive.map((t) => t.left),
              ).map((m) => m.amount);
        const refundLines = positive.map((t, i) => ({
          courseId: t.courseId,
          paid: t.paid,
          amount: split[i] ?? 0,
        }));
        // a line sold for nothing (a full coupon) goes with a refund that names it or takes all that is left
        if (amount === left) {
          for (const t of targets) {
            if (t.paid === 0) refundLines.push({ courseId: t.courseId, paid: 0, amount: 0 });
          }
        }
        const approved = by === 'admin' || review === null;
        const refund = await insertRefund(trx, {
          order_id: order.id,
          user_id: order.user_id,
          payment_id: payment.id,
          provider: payment.provider,
          amount,
          currency: order.currency,
          status: 'requested',
          reason: input.reason,
          requested_by_kind: by,
          requested_by: actor.userId,
          consumed_bps: consumedBps,
          review_reason: review,
          created_at: now,
          updated_at: now,
        });
        await insertRefundLines(
          trx,
          refundLines.map((l) => ({
            refund_id: refund.id,
            order_id: order.id,
            course_id: l.courseId,
            amount: l.amount,
          })),
        );
        await moveBalances(trx, order.id, refundLines);
        await insertRefundTransition(trx, {
          refund_id: refund.id,
          from_status: null,
          to_status: 'requested',
          actor_kind: by,
          actor_id: actor.userId,
          reason: input.reason,
          at: now,
        });
        let current = refund;
        if (approved) {
          const decider: TransitionActor =
            by === 'admin' ? { kind: 'admin', id: actor.userId } : { kind: 'system', id: 'refund-rule' };
          const why =
            by === 'admin'
              ? 'refunded by an administrator'
              : `within ${deps.windowDays} days of payment and ${(consumedBps ?? 0) / 100}% consumed (below ${deps.maxConsumedBps / 100}%)`;
          current = await approveIn(trx, refund, decider, why, now);
        }
        const view = await viewIn(trx, current);
        await complete?.(trx, view);
        return view;
      });

    try {
      return await attempt();
    } catch (err) {
      // the balance guard caught what the lock should have: answer as the service would
      if (isCheckViolation(err)) throw RefundRefused.exceedsRemaining(0, order.currency);
      throw err;
    }
  }

  async function approveIn(trx: Db, refund: RefundRow, actor: TransitionActor, reason: string, at: Date) {
    const approved = await move(trx, refund, 'approved', actor, reason, at, {
      decided_by_kind: actor.kind === 'admin' ? 'admin' : 'system',
      decided_by: actor.id,
      decision_reason: reason,
      decided_at: at,
    });
    await deps.jobs.send<typeof deps.sendJob.data, CommerceTables>(
      deps.sendJob,
      { refundId: refund.id },
      { transaction: trx },
    );
    return approved;
  }

  /** Lock the refund's order, then the refund (the order every writer of both takes). */
  async function lockedRefund(trx: Db, refundId: string): Promise<{ order: OrderRow; refund: RefundRow }> {
    const found = isUuid(refundId) ? await findRefund(trx, refundId) : undefined;
    if (!found) throw RefundRefused.notFound();
    const order = await lockOrder(trx, found.order_id);
    const refund = await lockRefund(trx, refundId);
    if (!order || !refund) throw RefundRefused.notFound();
    return { order, refund };
  }

  /**
   * The provider's word that a refund succeeded or failed, inside the caller's transaction with
   * the order locked. Success: the refund, the order's transition, the ledger reversal and
   * `commerce.order.refunded`, together. Said twice: nothing happens the second time.
   */
  async function settleIn(
    trx: Trx,
    order: OrderRow,
    refund: RefundRow,
    outcome: 'succeeded' | 'failed',
    actor: TransitionActor,
    reason: string,
    at: Date,
  ): Promise<NotificationResult> {
    if (refund.status === outcome) return { outcome: 'duplicate' };
    if (refund.status !== 'approved' && refund.status !== 'sent') {
      return { outcome: 'flagged', flagReason: `provider says ${outcome} for a ${refund.status} refund` };
    }
    if (outcome === 'failed') {
      await move(trx, refund, 'failed', actor, reason, at, { settled_at: at, failure_reason: reason });
      await release(trx, refund);
      return { outcome: 'applied' };
    }
    await move(trx, refund, 'succeeded', actor, reason, at, { settled_at: at });
    // money given back that never bought anything: the order, its lines and the ledger stay as they are
    if (refund.kind === 'flagged-payment') return { outcome: 'applied' };
    const [lines, refundLines, done] = await Promise.all([
      linesOf(trx, [order.id]),
      refundLinesOf(trx, [refund.id]),
      lineRefundTotals(trx, order.id, ['succeeded']),
    ]);
    const total = await succeededOfOrder(trx, order.id);
    const to = total >= order.total ? 'refunded' : 'partially_refunded';
    const revoked =
      to === 'refunded'
        ? lines.map((l) => l.course_id)
        : refundLines
            .filter((rl) => {
              const line = lines.find((l) => l.course_id === rl.course_id);
              return line !== undefined && (done.get(rl.course_id) ?? 0) >= line.amount;
            })
            .map((rl) => rl.course_id);
    const updated = await transitionOrder(trx, {
      orderId: order.id,
      from: ['paid', 'partially_refunded'],
      to,
      actor,
      reason: `refund ${refund.id} succeeded`,
      at,
    });
    await deps.ledger.recordRefund(trx, {
      refundId: refund.id,
      orderId: order.id,
      currency: refund.currency,
      occurredAt: at,
      lines: refundLines.map((l) => ({ courseId: l.course_id, amount: l.amount })),
    });
    await enqueue(trx, 'commerce', [
      OrderRefundedEvent.create(order.id, {
        orderId: order.id,
        userId: order.user_id,
        refundId: refund.id,
        amount: refund.amount,
        currency: refund.currency,
        revokedCourseIds: revoked,
        orderStatus: updated.status === 'refunded' ? 'refunded' : 'partially_refunded',
        refundedAt: at.toISOString(),
      }),
    ]);
    return { outcome: 'applied' };
  }

  async function failAfterRefusal(refundId: string, provider: string, why: string): Promise<void> {
    await inTransaction(db, async (trx) => {
      const { order, refund } = await lockedRefund(trx, refundId);
      await settleIn(trx, order, refund, 'failed', { kind: 'provider', id: provider }, why, clock());
    });
  }

  /**
   * Ask the refund's provider what became of it, outside any transaction: its refund query where
   * it has one (Alipay, WeChat Pay), else the refunds its payment query reports (the sandbox's;
   * Stripe's adapter reports none, so its refunds are `unknown`). An amount other than ours is not
   * taken as an answer.
   */
  async function askProvider(refund: RefundRow): Promise<ProviderRefundStatus> {
    const provider = providers.get(refund.provider);
    const payment = await findPayment(db, refund.payment_id);
    if (!provider || !payment) return 'unknown';
    const ref = {
      paymentId: payment.id,
      ...(payment.provider_ref ? { providerRef: payment.provider_ref } : {}),
    };
    try {
      const found = provider.queryRefund
        ? await provider.queryRefund({ ...ref, refundId: refund.id })
        : (await provider.query(ref)).refunds?.find((r) => r.refundId === refund.id);
      if (!found || found.status === 'unknown') return 'unknown';
      // a pending answer may not name the amount yet; an outcome must name ours
      if (found.status === 'pending') return 'pending';
      if (found.amount?.amount !== refund.amount || found.amount.currency !== refund.currency) {
        deps.logger.warn(
          { refundId: refund.id, providerStatus: found.status },
          "the provider's refund answer names another amount",
        );
        return 'unknown';
      }
      return found.status;
    } catch (err) {
      deps.logger.warn({ err, refundId: refund.id }, 'the provider could not be asked about a refund');
      return 'unknown';
    }
  }

  /** Ask the provider, and settle the refund through the notification's path when it has an answer. */
  async function checkAtProvider(refund: RefundRow): Promise<RefundCheck> {
    const providerStatus = await askProvider(refund);
    if (providerStatus !== 'succeeded' && providerStatus !== 'failed') {
      return { refundId: refund.id, status: refund.status, providerStatus, outcome: 'none' };
    }
    return inTransaction(db, async (trx) => {
      const { order, refund: locked } = await lockedRefund(trx, refund.id);
      const result = await settleIn(
        trx,
        order,
        locked,
        providerStatus,
        { kind: 'provider', id: refund.provider },
        `the provider's refund query: ${providerStatus}`,
        clock(),
      );
      const now = await findRefund(trx, refund.id);
      return {
        refundId: refund.id,
        status: now?.status ?? locked.status,
        providerStatus,
        outcome: result.outcome,
      };
    });
  }

  return {
    /** A learner asks for a refund of their order. */
    request: (
      actor: Actor,
      orderId: string,
      input: RefundInput,
      complete?: CompleteInTransaction<RefundView>,
    ) => create(actor, orderId, input, 'user', complete),

    /** An admin refunds any paid order: no window, no consumption rule; approved at once. */
    adminRefund: (
      actor: Actor,
      orderId: string,
      input: RefundInput,
      complete?: CompleteInTransaction<RefundView>,
    ) => create(actor, orderId, input, 'admin', complete),

    async decide(
      actor: Actor,
      refundId: string,
      decision: 'approve' | 'reject',
      reason: string,
    ): Promise<RefundView> {
      if (!isAdmin(actor)) throw RefundRefused.notFound();
      const now = clock();
      return inTransaction(db, async (trx) => {
        const { refund } = await lockedRefund(trx, refundId);
        if (refund.status !== 'requested') throw RefundRefused.notDecidable(refund.status);
        const who: TransitionActor = { kind: 'admin', id: actor.userId };
        let updated: RefundRow;
        if (decision === 'approve') {
          updated = await approveIn(trx, refund, who, reason, now);
        } else {
          updated = await move(trx, refund, 'rejected', who, reason, now, {
            decided_by_kind: 'admin',
            decided_by: actor.userId,
            decision_reason: reason,
            decided_at: now,
          });
          await release(trx, refund);
        }
        return viewIn(trx, updated);
      });
    },

    async get(actor: Actor, refundId: string): Promise<RefundView> {
      const refund = isUuid(refundId) ? await findRefund(db, refundId) : undefined;
      if (!refund || (refund.user_id !== actor.userId && !isAdmin(actor))) throw RefundRefused.notFound();
      const [view] = await views([refund]);
      if (!view) throw RefundRefused.notFound();
      return view;
    },

    async list(
      filter: RefundFilter,
      page: { limit?: number | undefined; cursor?: string | undefined },
    ): Promise<Page<RefundView>> {
      return pageOf(page, (p) => listRefunds(db, filter, p), views);
    },

    /**
     * The send job: ask the provider to refund, outside any transaction, then record the answer.
     * A refusal fails the refund (its amount is free again); an outage throws, and the job retries.
     * The sandbox completes the refund at once and posts its notification, as a provider would.
     */
    async send(refundId: string): Promise<void> {
      const refund = await findRefund(db, refundId);
      if (!refund || (refund.status !== 'approved' && refund.status !== 'sent')) return;
      const payment: PaymentRow | undefined = await findPayment(db, refund.payment_id);
      if (!payment) throw new Error(`refund ${refundId}: its payment is gone`);
      const provider = providers.get(refund.provider);
      if (!provider)
        throw new Error(`refund ${refundId}: provider ${refund.provider} is not configured here`);
      let result;
      try {
        result = await provider.refund({
          paymentId: payment.id,
          ...(payment.provider_ref ? { providerRef: payment.provider_ref } : {}),
          refundId: refund.id,
          amount: money(refund.amount, refund.currency),
          total: money(payment.amount, payment.currency),
          reason: refund.reason,
        });
      } catch (err) {
        if (err instanceof ProviderError && err.code === ProviderErrors.rejected) {
          await failAfterRefusal(refundId, refund.provider, `the provider refused: ${err.message}`);
          return;
        }
        throw err;
      }
      const providerRefundId = result.providerRefundId;
      const sent = await inTransaction(db, async (trx) => {
        const { order, refund: locked } = await lockedRefund(trx, refundId);
        const now = clock();
        let current = locked;
        if (locked.status === 'approved') {
          current = await move(
            trx,
            locked,
            'sent',
            { kind: 'system', id: deps.sendJob.name },
            'sent to the provider',
            now,
            {
              provider_refund_id: providerRefundId,
              sent_at: now,
            },
          );
        } else if (locked.provider_refund_id === null) {
          current = await updateRefund(trx, locked.id, {
            provider_refund_id: providerRefundId,
            updated_at: now,
          });
        }
        if (result.status === 'succeeded') {
          await settleIn(
            trx,
            order,
            current,
            'succeeded',
            { kind: 'provider', id: refund.provider },
            'the provider answered: refunded',
            now,
          );
        }
        return current;
      }).catch((err: unknown) => {
        if (isUniqueViolation(err)) throw new Error(`refund ${refundId}: provider refund id already used`);
        throw err;
      });
      if (result.status === 'succeeded' || sent.status !== 'sent' || refund.provider !== 'sandbox') return;
      const notification = await providers.sandbox.simulateRefund(payment.id, refund.id, 'succeeded');
      const statuses = await providers.sandbox.deliver(
        notification,
        deps.transport ? { fetch: deps.transport } : {},
      );
      // like a provider: no 2xx means it is not known to have arrived; the retry asks again
      if (!statuses.some((s) => s >= 200 && s < 300)) {
        throw new Error(`sandbox refund notification was not accepted (${statuses.join(', ')})`);
      }
    },

    /** Ask the provider about a refund now (its learner or an admin; anyone else: 404). */
    async query(actor: Actor, refundId: string): Promise<RefundCheck> {
      const refund = isUuid(refundId) ? await findRefund(db, refundId) : undefined;
      if (!refund || (refund.user_id !== actor.userId && !isAdmin(actor))) throw RefundRefused.notFound();
      return checkAtProvider(refund);
    },

    /**
     * The scheduled check: refunds approved or sent longer ago than COMMERCE_REFUND_STUCK_MINUTES.
     * One still `approved` is sent again (the provider takes our refund id as the same refund),
     * then each is asked about at its provider and settled when it answers; what stays unsettled is
     * logged at warn with the refund id and counted (`lectern_commerce_refunds_stuck_total`).
     */
    async checkStuck(limit = 100): Promise<RefundCheck[]> {
      const before = addSeconds(clock(), -deps.stuckMinutes * 60);
      const checks: RefundCheck[] = [];
      for (const refund of await refundsInFlightSince(db, before, limit)) {
        let current: RefundRow | undefined = refund;
        if (refund.status === 'approved') {
          await this.send(refund.id).catch((err: unknown) => {
            deps.logger.warn({ err, refundId: refund.id }, 'sending a stuck refund again failed');
          });
          current = await findRefund(db, refund.id);
        }
        if (!current) continue;
        const check =
          current.status === 'approved' || current.status === 'sent'
            ? await checkAtProvider(current)
            : {
                refundId: refund.id,
                status: current.status,
                providerStatus: 'unknown' as const,
                outcome: 'applied' as const,
              };
        if (check.status === 'approved' || check.status === 'sent') {
          deps.logger.warn(
            {
              refundId: refund.id,
              status: check.status,
              provider: refund.provider,
              providerStatus: check.providerStatus,
              since: refund.updated_at.toISOString(),
            },
            'refund still unsettled at the provider',
          );
          stuck?.inc({ provider: refund.provider });
        }
        checks.push(check);
      }
      return checks;
    },

    /**
     * The flagged-payment job: money that arrived where it could not be kept (a closed order, an
     * order another payment paid) goes back whole through the refund path: a refund of kind
     * `flagged-payment` asked for and approved by the system, sent by the send job. Once per
     * payment (a partial unique index); a payment that is not succeeded and flagged is left alone.
     */
    async refundFlaggedPayment(paymentId: string): Promise<RefundRow | undefined> {
      const now = clock();
      try {
        return await inTransaction(db, async (trx) => {
          const order = await lockOrderOfPayment(trx, paymentId);
          const payment = order ? await lockPayment(trx, paymentId) : undefined;
          if (!order || !payment || !payment.flagged || payment.status !== 'succeeded' || payment.amount <= 0)
            return undefined;
          if (await flaggedPaymentRefund(trx, paymentId)) return undefined;
          const reason = `money the order could not keep: ${payment.flag_reason ?? 'flagged'}`;
          const refund = await insertRefund(trx, {
            kind: 'flagged-payment',
            order_id: order.id,
            user_id: order.user_id,
            payment_id: payment.id,
            provider: payment.provider,
            amount: payment.amount,
            currency: payment.currency,
            status: 'requested',
            reason,
            requested_by_kind: 'system',
            requested_by: null,
            consumed_bps: null,
            review_reason: null,
            created_at: now,
            updated_at: now,
          });
          const system: TransitionActor = { kind: 'system', id: FLAGGED_REFUNDER };
          await insertRefundTransition(trx, {
            refund_id: refund.id,
            from_status: null,
            to_status: 'requested',
            actor_kind: system.kind,
            actor_id: system.id,
            reason,
            at: now,
          });
          return approveIn(trx, refund, system, 'a flagged payment is given back', now);
        });
      } catch (err) {
        // a second run of the job raced the first past the check: the index kept one refund
        if (isUniqueViolation(err)) return undefined;
        throw err;
      }
    },

    /**
     * A verified `refund.succeeded` / `refund.failed` notification, inside the notification's
     * transaction with the order and payment locked.
     */
    async applyNotification(
      trx: Trx,
      payment: PaymentRow,
      n: VerifiedNotification,
      provider: string,
    ): Promise<NotificationResult> {
      if (!n.refundId || !isUuid(n.refundId)) return { outcome: 'rejected', flagReason: 'no such refund' };
      const refund = await lockRefund(trx, n.refundId);
      if (!refund || refund.payment_id !== payment.id)
        return { outcome: 'rejected', flagReason: 'no such refund' };
      if (n.amount.amount !== refund.amount || n.amount.currency !== refund.currency) {
        return {
          outcome: 'flagged',
          flagReason: `refunded ${n.amount.amount} ${n.amount.currency}, expected ${refund.amount} ${refund.currency}`,
        };
      }
      const order = await lockOrder(trx, refund.order_id);
      if (!order) return { outcome: 'rejected', flagReason: 'no such order' };
      return settleIn(
        trx,
        order,
        refund,
        n.kind === 'refund.failed' ? 'failed' : 'succeeded',
        { kind: 'provider', id: provider },
        `provider notification ${n.notificationId}`,
        clock(),
      );
    },
  };
}

export type RefundsService = ReturnType<typeof createRefundsService>;

function toView(
  r: RefundRow,
  lines: Awaited<ReturnType<typeof refundLinesOf>>,
  transitions: Awaited<ReturnType<typeof refundTransitionsOf>>,
): RefundView {
  const m = (amount: number) => money(amount, r.currency);
  return {
    id: r.id,
    orderId: r.order_id,
    userId: r.user_id,
    status: r.status,
    amount: m(r.amount),
    lines: lines
      .filter((l) => l.refund_id === r.id)
      .map((l) => ({ courseId: l.course_id, amount: m(l.amount) })),
    reason: r.reason,
    requestedBy: { kind: r.requested_by_kind, id: r.requested_by },
    consumedShareBps: r.consumed_bps,
    reviewReason: r.review_reason,
    decidedBy: r.decided_by_kind ? { kind: r.decided_by_kind, id: r.decided_by } : null,
    decisionReason: r.decision_reason,
    decidedAt: r.decided_at ? r.decided_at.toISOString() : null,
    providerRefundId: r.provider_refund_id,
    failureReason: r.failure_reason,
    sentAt: r.sent_at ? r.sent_at.toISOString() : null,
    settledAt: r.settled_at ? r.settled_at.toISOString() : null,
    createdAt: r.created_at.toISOString(),
    transitions: transitions
      .filter((t) => t.refund_id === r.id)
      .map((t) => ({
        from: t.from_status,
        to: t.to_status,
        actorKind: t.actor_kind,
        actorId: t.actor_id,
        reason: t.reason,
        at: t.at.toISOString(),
      })),
  };
}
