import type { Money } from '../../../platform/money.js';

/** What the sandbox remembers of a simulated payment, as a real provider would. */
export interface SandboxPayment {
  paymentId: string;
  orderId: string;
  amount: Money;
  notifyUrl: string;
  expiresAt: Date;
  status: 'pending' | 'succeeded' | 'closed';
  txnId: string;
  refunds: SandboxRefund[];
}

export interface SandboxRefund {
  refundId: string;
  providerRefundId: string;
  amount: Money;
  status: 'pending' | 'succeeded' | 'failed';
}

/**
 * Where simulated payments live. The in-memory store loses them on restart; the commerce module
 * can hand in a store over its own tables (same calls) so a sandbox payment outlives the
 * process.
 */
export interface SandboxStore {
  get(paymentId: string): Promise<SandboxPayment | undefined>;
  /** Keep a new payment; one already known under its id stays as it is (a repeated create). */
  add(payment: SandboxPayment): Promise<void>;
  /**
   * Change a payment as one step: `change` gets the record (undefined: unknown), edits it in
   * place and is kept; if it throws, nothing is. Changes of one payment take turns, so two
   * refunds of a payment sent at once both stay (a read, then a separate write, lost one). A
   * store may call `change` again with a fresher record when another change came first, so it
   * must do nothing but edit the record and answer.
   */
  update<T>(paymentId: string, change: (payment: SandboxPayment | undefined) => T): Promise<T>;
}

export function createMemorySandboxStore(): SandboxStore {
  const payments = new Map<string, SandboxPayment>();
  // copies in and out, so a caller holding a record cannot change the store behind its back
  const copy = (p: SandboxPayment): SandboxPayment => ({ ...p, refunds: p.refunds.map((r) => ({ ...r })) });
  return {
    get: (paymentId) => {
      const payment = payments.get(paymentId);
      return Promise.resolve(payment ? copy(payment) : undefined);
    },
    add: (payment) => {
      if (!payments.has(payment.paymentId)) payments.set(payment.paymentId, copy(payment));
      return Promise.resolve();
    },
    // synchronous from read to write, so one change cannot interleave with another; what
    // `change` throws rejects the promise
    update: (paymentId, change) =>
      new Promise((resolve) => {
        const known = payments.get(paymentId);
        const payment = known ? copy(known) : undefined;
        const result = change(payment);
        if (payment) payments.set(paymentId, payment);
        resolve(result);
      }),
  };
}
