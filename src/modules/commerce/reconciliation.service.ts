import type { Kysely } from 'kysely';
import { AppError } from '../../platform/errors.js';
import { CommerceErrors } from './commerce.errors.js';
import { toPage } from '../../platform/http/pagination.js';
import { ordersCreatedIn, paymentsOfOrders, refundsOfOrders } from './reconciliation.queries.js';
import type { ReconciliationReportView } from './refunds.schemas.js';
import type { CommerceTables, RefundStatus } from './tables.js';
import type { ProviderPaymentState } from './providers/provider.js';
import type { PaymentProviders } from './providers/providers.js';

type Db = Kysely<CommerceTables>;
type Disagreement = ReconciliationReportView['disagreements'][number];

const DAY_MS = 24 * 3600 * 1000;
const PAID_ORDER = new Set(['paid', 'partially_refunded', 'refunded']);

/** What a local refund status allows the provider to say of it (undefined: the provider has no such refund). */
const REMOTE_FITS: Record<RefundStatus, readonly (string | undefined)[]> = {
  requested: [undefined],
  rejected: [undefined],
  // between the provider's answer and our record of it the provider may already know the refund
  approved: [undefined, 'pending', 'succeeded'],
  sent: ['pending'],
  succeeded: ['succeeded'],
  // refused by the provider before it existed there, or failed there
  failed: [undefined, 'failed'],
};

/**
 * Run `work` over `items`, at most `limit` at a time, keeping their order. Eight lines, so no
 * dependency: providers rate-limit queries, and one slow provider must not hold a whole page.
 */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Reconciliation: for the orders of a time range, ask each payment's provider what it knows
 * (its query API) and list where that disagrees with our records. Reads only: it changes nothing,
 * so an admin settles each finding through the payment query or a refund. The provider calls run
 * outside any transaction, a few at a time.
 */
export function createReconciliationService(deps: {
  db: Db;
  providers: PaymentProviders;
  concurrency?: number;
  maxRangeDays?: number;
}) {
  const { db, providers } = deps;
  const concurrency = deps.concurrency ?? 4;
  const maxRangeDays = deps.maxRangeDays ?? 31;

  return {
    async report(
      range: { from: Date; to: Date },
      page: { limit?: number | undefined; cursor?: string | undefined },
    ): Promise<ReconciliationReportView> {
      if (range.from.getTime() >= range.to.getTime()) {
        throw AppError.validation(CommerceErrors.reconciliationRangeInvalid, '`from` must be before `to`.', [
          { field: '/querystring/from', message: 'must be before to' },
        ]);
      }
      if (range.to.getTime() - range.from.getTime() > maxRangeDays * DAY_MS) {
        throw AppError.validation(
          CommerceErrors.reconciliationRangeInvalid,
          `A report covers at most ${maxRangeDays} days.`,
          [{ field: '/querystring/to', message: `must be at most ${maxRangeDays} days after from` }],
        );
      }
      const limit = page.limit ?? 50;
      const rows = await ordersCreatedIn(db, range, { limit, cursor: page.cursor });
      const kept = toPage(
        rows,
        limit,
        (r) => [r.created_at.toISOString(), r.id],
        (r) => r,
      );
      const orders = new Map(kept.data.map((o) => [o.id, o]));
      const ids = [...orders.keys()];
      const [payments, refunds] = await Promise.all([paymentsOfOrders(db, ids), refundsOfOrders(db, ids)]);

      const answers = await mapLimited(payments, concurrency, async (p) => {
        const provider = providers.get(p.provider);
        if (!provider) return { error: `${p.provider} is not configured here` };
        try {
          const state: ProviderPaymentState = await provider.query({
            paymentId: p.id,
            ...(p.provider_ref ? { providerRef: p.provider_ref } : {}),
          });
          return { state };
        } catch (err) {
          return { error: err instanceof Error ? err.message : String(err) };
        }
      });

      const disagreements: Disagreement[] = [];
      payments.forEach((p, i) => {
        const order = orders.get(p.order_id);
        const answer = answers[i];
        if (!order || !answer) return;
        const base = { orderId: p.order_id, paymentId: p.id, provider: p.provider };
        const local = {
          orderStatus: order.status,
          paymentStatus: p.status,
          amount: { amount: p.amount, currency: p.currency },
          flagged: p.flagged,
        };
        if ('error' in answer) {
          disagreements.push({ ...base, kind: 'query-failed', detail: answer.error ?? 'no answer', local });
          return;
        }
        const state = answer.state;
        const remote = {
          status: state.status,
          ...(state.amount ? { amount: state.amount } : {}),
          ...(state.refunds ? { refunds: state.refunds } : {}),
        };
        const providerPaid = state.status === 'succeeded';
        const localPaid = p.status === 'succeeded';
        if (providerPaid && (!localPaid || !PAID_ORDER.has(order.status))) {
          disagreements.push({
            ...base,
            kind: 'paid-at-provider-not-locally',
            detail: `the provider holds the money; locally the order is ${order.status} and the payment ${p.status}${p.flagged ? ' (flagged for refund)' : ''}`,
            local,
            remote,
          });
        } else if (localPaid && !providerPaid) {
          disagreements.push({
            ...base,
            kind: 'paid-locally-not-at-provider',
            detail: `locally paid; the provider says ${state.status}`,
            local,
            remote,
          });
        }
        if (
          providerPaid &&
          state.amount &&
          (state.amount.amount !== p.amount || state.amount.currency !== p.currency)
        ) {
          disagreements.push({
            ...base,
            kind: 'amount-differs',
            detail: `the provider has ${state.amount.amount} ${state.amount.currency}; locally ${p.amount} ${p.currency}`,
            local,
            remote,
          });
        }
        if (!state.refunds) return;
        const remoteRefunds = new Map(state.refunds.map((r) => [r.refundId, r]));
        for (const r of refunds.filter((x) => x.payment_id === p.id)) {
          const there = remoteRefunds.get(r.id);
          remoteRefunds.delete(r.id);
          const fits = REMOTE_FITS[r.status].includes(there?.status);
          const sameMoney =
            !there || (there.amount.amount === r.amount && there.amount.currency === r.currency);
          if (fits && sameMoney) continue;
          disagreements.push({
            ...base,
            kind: 'refund-differs',
            detail: there
              ? `refund ${r.id} is ${r.status} (${r.amount} ${r.currency}) locally and ${there.status} (${there.amount.amount} ${there.amount.currency}) at the provider`
              : `refund ${r.id} is ${r.status} locally; the provider has no such refund`,
            local: {
              ...local,
              refund: { id: r.id, status: r.status, amount: { amount: r.amount, currency: r.currency } },
            },
            remote,
          });
        }
        for (const there of remoteRefunds.values()) {
          disagreements.push({
            ...base,
            kind: 'refund-differs',
            detail: `the provider has refund ${there.refundId} (${there.status}) that is not ours`,
            local,
            remote,
          });
        }
      });

      return {
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        checkedOrders: kept.data.length,
        checkedPayments: payments.length,
        disagreements,
        nextCursor: kept.nextCursor,
      };
    },
  };
}

export type ReconciliationService = ReturnType<typeof createReconciliationService>;
