import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

export const ExpireOrdersData = Type.Object({});

/** The sweep's name, also the actor its expiries record. */
export const EXPIRE_ORDERS_JOB = 'commerce.expire-orders';

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

export const ResealPayersData = Type.Object({});

/** What the jobs call; built after the services, which themselves send the jobs. */
export interface JobHandlers {
  expireOverdueOrders(): Promise<number>;
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
  resealPayers(): Promise<{ resealed: number; unreadable: number; left: number }>;
}

/**
 * Commerce's delayed jobs. `commerce.expire-orders` runs every minute and expires the pending
 * orders whose time to live has passed, in batches: one sweep instead of a delayed job per order,
 * which cost every checkout a job insert in its order's transaction and the worker a fetch, a
 * read and a completion per order later. An order is expired at most a minute (and the cron
 * check) after its expiry; paying it was refused from its expiry on, and a learner ordering its
 * courses again expires it on the spot. `commerce.sandbox-deliver` posts a simulated
 * notification later, so a delayed sandbox payment survives a restart as a real provider's would.
 * `commerce.cancel-at-provider` withdraws a closed order's open payment at a provider that needs
 * telling (Stripe), retried until the provider answers. `commerce.send-refund` is sent in the
 * transaction that approves a refund, so an approved refund always reaches the provider; the
 * provider takes our refund id (`out_refund_no`) as one refund however often it is sent.
 * `commerce.refund-flagged-payment` is sent in the notification's transaction that flags money
 * the order cannot keep, and gives it back through the same refund path.
 * `commerce.check-stuck-refunds` runs every 5 minutes and asks the provider about refunds that
 * waited too long for its answer. `commerce.reseal-payers` runs hourly and seals again, under
 * the current key of COMMERCE_DATA_KEYS, the payers sealed under an older one; its log line's
 * `left` tells when no value needs the older key any more and it can be dropped.
 */
export function createCommerceJobs(handlers: () => JobHandlers) {
  const expireOrders = defineJob({
    name: EXPIRE_ORDERS_JOB,
    data: ExpireOrdersData,
    cron: { expression: '* * * * *', data: {} },
    async handle(_data, { logger }) {
      const expired = await handlers().expireOverdueOrders();
      if (expired > 0) logger.info({ expired }, 'overdue orders expired');
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
  const resealPayers = defineJob({
    name: 'commerce.reseal-payers',
    data: ResealPayersData,
    cron: { expression: '41 * * * *', data: {} },
    async handle(_data, { logger }) {
      const run = await handlers().resealPayers();
      // every run, `left` 0 included: the operator drops the old key on this line's word
      logger.info(run, 'payer identifiers resealed under the current data key');
    },
  });
  return {
    expireOrders,
    deliverSandbox,
    cancelAtProvider,
    sendRefund,
    refundFlaggedPayment,
    checkStuckRefunds,
    resealPayers,
    all: [
      expireOrders,
      deliverSandbox,
      cancelAtProvider,
      sendRefund,
      refundFlaggedPayment,
      checkStuckRefunds,
      resealPayers,
    ] as JobDefinition[],
  };
}
