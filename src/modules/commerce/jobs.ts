import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';

export const ExpireOrderData = Type.Object({ orderId: Type.String({ format: 'uuid' }) });
export type ExpireOrderJob = JobDefinition<typeof ExpireOrderData>;

export const SandboxDeliveryData = Type.Object({
  notifyUrl: Type.String({ minLength: 1 }),
  headers: Type.Record(Type.String(), Type.String()),
  body: Type.String(),
  /** How many more times to post the same notification, as a provider unsure it arrived does. */
  duplicates: Type.Integer({ minimum: 0, maximum: 20 }),
});

export const CancelAtProviderData = Type.Object({ paymentId: Type.String({ format: 'uuid' }) });
export type CancelAtProviderJob = JobDefinition<typeof CancelAtProviderData>;

export const SendRefundData = Type.Object({ refundId: Type.String({ format: 'uuid' }) });
export type SendRefundJob = JobDefinition<typeof SendRefundData>;

export const RefundFlaggedPaymentData = Type.Object({ paymentId: Type.String({ format: 'uuid' }) });
export type RefundFlaggedPaymentJob = JobDefinition<typeof RefundFlaggedPaymentData>;

export const CheckStuckRefundsData = Type.Object({});

/** What the jobs call; built after the services, which themselves send the jobs. */
export interface JobHandlers {
  expireOrder(orderId: string): Promise<{ expired: boolean; waitSeconds?: number }>;
  deliverSandbox(data: {
    notifyUrl: string;
    headers: Record<string, string>;
    body: string;
    duplicates: number;
  }): Promise<number[]>;
  cancelAtProvider(paymentId: string): Promise<void>;
  sendRefund(refundId: string): Promise<void>;
  refundFlaggedPayment(paymentId: string): Promise<void>;
  checkStuckRefunds(): Promise<void>;
}

/**
 * Commerce's delayed jobs. `commerce.expire-order` is sent in the order's creation transaction
 * with the order's time to live as delay; `commerce.sandbox-deliver` posts a simulated
 * notification later, so a delayed sandbox payment survives a restart as a real provider's would.
 * `commerce.cancel-at-provider` withdraws a closed order's open payment at a provider that needs
 * telling (Stripe), retried until the provider answers. `commerce.send-refund` is sent in the
 * transaction that approves a refund, so an approved refund always reaches the provider; the
 * provider takes our refund id (`out_refund_no`) as one refund however often it is sent.
 * `commerce.refund-flagged-payment` is sent in the notification's transaction that flags money
 * the order cannot keep, and gives it back through the same refund path.
 * `commerce.check-stuck-refunds` runs every 5 minutes and asks the provider about refunds that
 * waited too long for its answer.
 */
export function createCommerceJobs(handlers: () => JobHandlers, queue: () => JobQueue) {
  const expireOrder = defineJob({
    name: 'commerce.expire-order',
    data: ExpireOrderData,
    async handle(data, { logger }) {
      const outcome = await handlers().expireOrder(data.orderId);
      if (outcome.waitSeconds !== undefined) {
        // ran before the order's expiry by this machine's clock: come back when it is due
        await queue().send(expireOrder, data, { delaySeconds: outcome.waitSeconds });
      }
      if (outcome.expired) logger.info({ orderId: data.orderId }, 'order expired');
    },
  });
  const deliverSandbox = defineJob({
    name: 'commerce.sandbox-deliver',
    data: SandboxDeliveryData,
    retry: { limit: 5, delaySeconds: 5, backoff: true },
    async handle(data) {
      const statuses = await handlers().deliverSandbox(data);
      // like a provider: no 2xx answer means try again later
      if (!statuses.some((s) => s >= 200 && s < 300)) {
        throw new Error(`sandbox notification was not accepted (${statuses.join(', ')})`);
      }
    },
  });
  // sent in the transaction that closes the order, so a closed order's card payment is always
  // withdrawn at Stripe, and never by a call made while the order's row is locked
  const cancelAtProvider = defineJob({
    name: 'commerce.cancel-at-provider',
    data: CancelAtProviderData,
    retry: { limit: 8, delaySeconds: 30, backoff: true },
    async handle(data) {
      await handlers().cancelAtProvider(data.paymentId);
    },
  });
  const sendRefund = defineJob({
    name: 'commerce.send-refund',
    data: SendRefundData,
    retry: { limit: 8, delaySeconds: 10, backoff: true },
    async handle(data) {
      await handlers().sendRefund(data.refundId);
    },
  });
  const refundFlaggedPayment = defineJob({
    name: 'commerce.refund-flagged-payment',
    data: RefundFlaggedPaymentData,
    retry: { limit: 8, delaySeconds: 30, backoff: true },
    async handle(data) {
      await handlers().refundFlaggedPayment(data.paymentId);
    },
  });
  const checkStuckRefunds = defineJob({
    name: 'commerce.check-stuck-refunds',
    data: CheckStuckRefundsData,
    cron: { expression: '*/5 * * * *', data: {} },
    async handle() {
      await handlers().checkStuckRefunds();
    },
  });
  return {
    expireOrder,
    deliverSandbox,
    cancelAtProvider,
    sendRefund,
    refundFlaggedPayment,
    checkStuckRefunds,
    all: [
      expireOrder,
      deliverSandbox,
      cancelAtProvider,
      sendRefund,
      refundFlaggedPayment,
      checkStuckRefunds,
    ] as JobDefinition[],
  };
}
