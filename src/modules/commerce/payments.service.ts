import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors.js';
import type { CompleteInTransaction } from '../../platform/http/idempotency.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import { money } from '../../platform/money.js';
import { CommerceErrors, NotFound } from './commerce.errors.js';
import type { SandboxDeliveryData } from './jobs.js';
import type { NotificationResult, NotificationsService } from './notifications.service.js';
import { findOrder } from './orders.queries.js';
import { type Actor, isAdmin } from './orders.service.js';
import {
  deletePayment,
  findPayment,
  insertPaymentIfPayable,
  type PaymentRow,
  updatePayment,
} from './payments.queries.js';
import type { PaymentView } from './payments.schemas.js';
import type { PaymentAction, ProviderName, Transport } from './providers/provider.js';
import type { PaymentProviders } from './providers/providers.js';
import { ProviderError } from './providers/provider.errors.js';
import { SANDBOX_NO_SUCH_PAYMENT } from './providers/sandbox.provider.js';
import type { CommerceTables } from './tables.js';
import type { JobDefinition } from '../../platform/jobs/job.js';

type Db = Kysely<CommerceTables>;

export interface PaymentsServiceDeps {
  db: Db;
  clock: Clock;
  providers: PaymentProviders;
  notifications: NotificationsService;
  jobs: JobQueue;
  deliverJob: JobDefinition<typeof SandboxDeliveryData>;
  /** Where providers post notifications: `<public URL>/api/v1/payments/notify/<provider>`. */
  notifyUrl: (provider: ProviderName) => string;
  returnUrl: (orderId: string) => string;
  transport?: Transport | undefined;
}

const toView = (p: PaymentRow): PaymentView => ({
  id: p.id,
  orderId: p.order_id,
  provider: p.provider,
  amount: money(p.amount, p.currency),
  status: p.status,
  action: p.action as PaymentAction,
  createdAt: p.created_at.toISOString(),
});

export function createPaymentsService(deps: PaymentsServiceDeps) {
  const { db, clock, providers } = deps;

  const providerOf = (name: ProviderName) => {
    const provider = providers.get(name);
    if (!provider) {
      throw AppError.conflict(
        CommerceErrors.providerNotConfigured,
        `Payments with ${name} are not set up here; use one of: ${providers.names.join(', ')}.`,
      );
    }
    return provider;
  };

  return {
    /**
     * Start a payment attempt: recorded first (its id is the merchant order number the provider
     * sees), then the provider is asked for the action, outside any transaction.
     */
    async start(
      actor: Actor,
      orderId: string,
      name: ProviderName,
      complete?: CompleteInTransaction<PaymentView>,
    ): Promise<PaymentView> {
      const provider = providerOf(name);
      const now = clock();
      const { order, payment } = await insertPaymentIfPayable(db, {
        orderId,
        userId: actor.userId,
        provider: name,
        at: now,
      });
      if (!order || order.user_id !== actor.userId) throw NotFound.order();
      if (!payment) {
        if (order.status !== 'pending') {
          throw AppError.conflict(
            CommerceErrors.orderNotPending,
            `The order is ${order.status}; it cannot be paid.`,
          );
        }
        throw AppError.conflict(CommerceErrors.orderExpired, 'The order has expired; order again.');
      }
      let created: Awaited<ReturnType<typeof provider.createPayment>>;
      try {
        created = await provider.createPayment({
          paymentId: payment.id,
          orderId: order.id,
          amount: money(order.total, order.currency),
          subject: `Lectern order ${order.id}`,
          notifyUrl: deps.notifyUrl(name),
          returnUrl: deps.returnUrl(order.id),
          expiresAt: order.expires_at,
        });
      } catch (err) {
        // refused before any call (a currency the provider does not take): the attempt never
        // existed at the provider, so it leaves no row, and the answer names the field
        if (err instanceof AppError && err.kind === 'validation') {
          await deletePayment(db, payment.id);
          throw new AppError(err.kind, err.code, err.message, {
            ...err.details,
            fields: err.details.fields ?? [{ field: '/body/provider', message: err.message }],
          });
        }
        throw err;
      }
      const set = {
        action: JSON.stringify(created.action),
        provider_ref: created.providerRef ?? null,
        updated_at: clock(),
      };
      // with an Idempotency-Key the stored answer commits with the update; without, one statement
      if (!complete) return toView(await updatePayment(db, payment.id, set));
      return db.transaction().execute(async (trx) => {
        const view = toView(await updatePayment(trx, payment.id, set));
        await complete(trx, view);
        return view;
      });
    },

    /** Close these attempts at their providers (after the order closed); the sandbox marks them closed. */
    async closeAtProvider(payments: PaymentRow[]): Promise<void> {
      for (const p of payments) {
        if (p.provider === 'sandbox') {
          const record = await providers.sandbox.query({ paymentId: p.id });
          if (record.status === 'pending') await providers.sandbox.simulate(p.id, 'close');
        }
        // providers with a cancel call (Stripe) are told by the commerce.cancel-at-provider job
      }
    },

    /**
     * The cancel job's work: withdraw a closed payment at its provider. Throws (the job retries)
     * while the provider cannot be asked, or while a start still in flight has not stored the
     * provider's reference.
     */
    async cancelAtProvider(paymentId: string): Promise<void> {
      const payment = await findPayment(db, paymentId);
      if (!payment || payment.status !== 'closed') return;
      const provider = providers.get(payment.provider);
      if (!provider?.cancel) return;
      if (!payment.provider_ref) {
        throw new Error(`payment ${payment.id} has no provider reference yet; trying again later`);
      }
      await provider.cancel({ paymentId: payment.id, providerRef: payment.provider_ref });
    },

    /**
     * Ask the provider what became of a payment (admin). A succeeded payment of a pending order
     * is settled through the notification path, as if the provider had told us.
     */
    async query(
      actor: Actor,
      paymentId: string,
    ): Promise<{ paymentId: string; providerStatus: string; outcome: string }> {
      if (!isAdmin(actor)) throw NotFound.payment();
      const payment = await findPayment(db, paymentId);
      if (!payment) throw NotFound.payment();
      const provider = providerOf(payment.provider);
      const state = await provider.query({
        paymentId: payment.id,
        ...(payment.provider_ref ? { providerRef: payment.provider_ref } : {}),
      });
      let outcome: NotificationResult['outcome'] | 'none' = 'none';
      if (state.status === 'succeeded' && state.providerTxnId && state.amount) {
        const result = await deps.notifications.handle(payment.provider, {
          kind: 'payment.succeeded',
          notificationId: `query:${payment.id}:${state.providerTxnId}`,
          paymentId: payment.id,
          providerTxnId: state.providerTxnId,
          amount: state.amount,
          merchant: 'query',
          occurredAt: clock(),
          ...(state.payer ? { payer: state.payer } : {}),
        });
        outcome = result.outcome;
      }
      return { paymentId: payment.id, providerStatus: state.status, outcome };
    },

    /**
     * The sandbox payer: pay or close the payment, then send the signed notification to the
     * notify URL now, or later through a job (so a delayed one survives a restart).
     */
    async sandboxPay(
      paymentId: string,
      input: {
        action?: 'pay' | 'close';
        amount?: number;
        payer?: string;
        duplicates?: number;
        delaySeconds?: number;
      },
    ): Promise<{ paymentId: string; delivered: number[]; scheduled: boolean }> {
      // the sandbox keeps records of its own payments only: one it does not know (unknown, or
      // another provider's) is not found; the payment's row is read only for a simulated amount
      const currencyOf = async () => {
        const payment = await findPayment(db, paymentId);
        if (!payment || payment.provider !== 'sandbox') throw NotFound.payment();
        return payment.currency;
      };
      let notification: Awaited<ReturnType<typeof providers.sandbox.simulate>>;
      try {
        notification = await providers.sandbox.simulate(paymentId, input.action ?? 'pay', {
          ...(input.amount !== undefined ? { amount: money(input.amount, await currencyOf()) } : {}),
          ...(input.payer !== undefined ? { payer: input.payer } : {}),
        });
      } catch (err) {
        if (err instanceof ProviderError && err.providerCode === SANDBOX_NO_SUCH_PAYMENT)
          throw NotFound.payment();
        throw err;
      }
      const duplicates = input.duplicates ?? 0;
      if (input.delaySeconds) {
        await deps.jobs.send(
          deps.deliverJob,
          { ...notification, duplicates },
          { delaySeconds: input.delaySeconds },
        );
        return { paymentId, delivered: [], scheduled: true };
      }
      const delivered = await providers.sandbox.deliver(notification, {
        duplicates,
        ...(deps.transport ? { fetch: deps.transport } : {}),
      });
      return { paymentId, delivered, scheduled: false };
    },

    async sandboxPayment(paymentId: string) {
      const payment = await findPayment(db, paymentId);
      if (!payment || payment.provider !== 'sandbox') throw NotFound.payment();
      const order = await findOrder(db, payment.order_id);
      return { payment: toView(payment), orderStatus: order?.status ?? 'unknown' };
    },
  };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
