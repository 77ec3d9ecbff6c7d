import { randomBytes, randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { type Clock, epochSeconds, systemClock } from '../../../platform/clock.js';
import { hmacSign, hmacVerify } from '../../../platform/crypto.js';
import { add, compare, type Money, money, subtract } from '../../../platform/money.js';
import { malformed, notifiedMoney, parseJsonAs, requiredHeader } from './notification-parsing.js';
import {
  type Acknowledgement,
  type CreatePaymentInput,
  type NotificationInput,
  type PaymentProvider,
  type PaymentRef,
  type ProviderPaymentState,
  type RefundInput,
  type RefundResult,
  type Transport,
  type VerifiedNotification,
  PROVIDER_CALL_TIMEOUT_MS,
} from './provider.js';
import { NotificationError, NotificationErrors, ProviderError, ProviderErrors } from './provider.errors.js';
import { postNotification } from './sandbox.post.js';
import { createMemorySandboxStore, type SandboxPayment, type SandboxStore } from './sandbox.store.js';

/**
 * The built-in provider: it plays a payer and a provider locally, so the whole purchase flow
 * works offline. Like a real provider it signs its asynchronous notifications (HMAC-SHA256 over
 * `<timestamp>.<body>`, header `lectern-sandbox-signature: t=<unix seconds>,v1=<base64url>`),
 * and `deliver` can post them late and more than once.
 */
export const SANDBOX_SIGNATURE_HEADER = 'lectern-sandbox-signature';

const SandboxBody = Type.Object({
  id: Type.String({ minLength: 1 }),
  type: Type.Union([
    Type.Literal('payment.succeeded'),
    Type.Literal('payment.closed'),
    Type.Literal('refund.succeeded'),
    Type.Literal('refund.failed'),
  ]),
  merchant: Type.String({ minLength: 1 }),
  paymentId: Type.String({ minLength: 1 }),
  txnId: Type.String({ minLength: 1 }),
  amount: Type.Integer({ minimum: 0 }),
  currency: Type.String({ minLength: 3, maxLength: 3 }),
  occurredAt: Type.String({ format: 'date-time' }),
  refundId: Type.Optional(Type.String({ minLength: 1 })),
  payer: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

/** A signed notification ready to post: the exact bytes and headers a provider would send. */
export interface SandboxNotification {
  notifyUrl: string;
  headers: Record<string, string>;
  body: string;
}

export interface SandboxOptions {
  /** HMAC key of notifications; at least 32 characters. */
  secret: string;
  merchant: string;
  /** Base of the pay page URL; the payment id is appended. */
  payUrl: string;
  toleranceSeconds: number;
  clock?: Clock;
  store?: SandboxStore;
}

export interface SandboxProvider extends PaymentProvider {
  readonly name: 'sandbox';
  /**
   * What the payer's action causes: `pay` settles the payment (optionally with another amount,
   * to test that a wrong amount is caught), `close` closes it unpaid. Returns the signed
   * notification the provider then sends. Throws ProviderError for an unknown payment or one
   * that can no longer go that way.
   */
  simulate(
    paymentId: string,
    action: 'pay' | 'close',
    options?: { amount?: Money; payer?: string },
  ): Promise<SandboxNotification>;
  /**
   * Settle a pending refund the way the provider's back office would, and return its notification;
   * for a refund already settled with this outcome, the same notification again.
   */
  simulateRefund(
    paymentId: string,
    refundId: string,
    outcome: 'succeeded' | 'failed',
  ): Promise<SandboxNotification>;
  /**
   * Post a notification to its notify URL after `delayMs`, then `duplicates` more times, as
   * providers do when they are unsure it arrived. Returns each answer's status (0: no answer).
   */
  deliver(
    notification: SandboxNotification,
    options: { fetch?: Transport; duplicates?: number; delayMs?: number },
  ): Promise<number[]>;
}

/** The provider code of a payment the sandbox has no record of. */
export const SANDBOX_NO_SUCH_PAYMENT = 'TRADE_NOT_EXIST';

/** A notification posted through a given fetch (tests: a fake transport). */
async function postWith(transport: Transport, notification: SandboxNotification): Promise<number> {
  const response = await transport(notification.notifyUrl, {
    method: 'POST',
    headers: notification.headers,
    body: notification.body,
    signal: AbortSignal.timeout(PROVIDER_CALL_TIMEOUT_MS),
  });
  await response.arrayBuffer();
  return response.status;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createSandboxProvider(options: SandboxOptions): SandboxProvider {
  const clock = options.clock ?? systemClock;
  const store = options.store ?? createMemorySandboxStore();

  function sign(payment: SandboxPayment, body: Record<string, unknown>): SandboxNotification {
    const text = JSON.stringify({ id: `sbn_${randomUUID()}`, merchant: options.merchant, ...body });
    const t = epochSeconds(clock());
    return {
      notifyUrl: payment.notifyUrl,
      headers: {
        'content-type': 'application/json',
        [SANDBOX_SIGNATURE_HEADER]: `t=${t},v1=${hmacSign(options.secret, `${t}.${text}`)}`,
      },
      body: text,
    };
  }

  /** Change a known payment as one step (see SandboxStore.update); an unknown one is refused. */
  function change<T>(paymentId: string, fn: (payment: SandboxPayment) => T): Promise<T> {
    return store.update(paymentId, (payment) => {
      if (!payment)
        throw new ProviderError(ProviderErrors.rejected, 'sandbox: no such payment', SANDBOX_NO_SUCH_PAYMENT);
      return fn(payment);
    });
  }

  const refunded = (payment: SandboxPayment): Money =>
    payment.refunds
      .filter((r) => r.status !== 'failed')
      .reduce((sum, r) => add(sum, r.amount), money(0, payment.amount.currency));

  return {
    name: 'sandbox',

    async createPayment(input: CreatePaymentInput) {
      // one round trip: a repeated create keeps the first record (and its transaction id)
      await store.add({
        paymentId: input.paymentId,
        orderId: input.orderId,
        amount: input.amount,
        notifyUrl: input.notifyUrl,
        expiresAt: input.expiresAt,
        status: 'pending',
        txnId: `sbt_${randomBytes(12).toString('hex')}`,
        refunds: [],
      });
      return {
        providerRef: input.paymentId,
        action: { kind: 'sandbox', payUrl: `${options.payUrl}/${encodeURIComponent(input.paymentId)}` },
      };
    },

    simulate(paymentId, action, simulateOptions = {}) {
      return change(paymentId, (payment) => {
        const now = clock();
        if (payment.status !== 'pending') {
          throw new ProviderError(ProviderErrors.rejected, `sandbox: payment is already ${payment.status}`);
        }
        if (action === 'pay' && now.getTime() > payment.expiresAt.getTime()) {
          throw new ProviderError(ProviderErrors.rejected, 'sandbox: payment has expired', 'TRADE_CLOSED');
        }
        payment.status = action === 'pay' ? 'succeeded' : 'closed';
        const paid = simulateOptions.amount ?? payment.amount;
        return sign(payment, {
          type: action === 'pay' ? 'payment.succeeded' : 'payment.closed',
          paymentId,
          txnId: payment.txnId,
          amount: paid.amount,
          currency: paid.currency,
          occurredAt: now.toISOString(),
          // like a real wallet, a payment names its payer: the one given, or a made-up account
          ...(action === 'pay'
            ? { payer: simulateOptions.payer ?? `sbu_${randomBytes(8).toString('hex')}` }
            : {}),
        });
      });
    },

    simulateRefund(paymentId, refundId, outcome) {
      return change(paymentId, (payment) => {
        const refund = payment.refunds.find((r) => r.refundId === refundId);
        if (!refund)
          throw new ProviderError(ProviderErrors.rejected, 'sandbox: no such refund', 'REFUND_NOT_EXIST');
        if (refund.status !== 'pending' && refund.status !== outcome) {
          throw new ProviderError(ProviderErrors.rejected, `sandbox: refund is already ${refund.status}`);
        }
        // settled this way already: the notification is sent again, as a provider resends one it
        // does not know arrived (a send job retried beside its first try gets here)
        refund.status = outcome;
        return sign(payment, {
          type: outcome === 'succeeded' ? 'refund.succeeded' : 'refund.failed',
          paymentId,
          txnId: payment.txnId,
          refundId,
          amount: refund.amount.amount,
          currency: refund.amount.currency,
          occurredAt: clock().toISOString(),
        });
      });
    },

    async deliver(notification, { fetch: transport, duplicates = 0, delayMs = 0 }) {
      const post = transport ? (n: SandboxNotification) => postWith(transport, n) : postNotification;
      const statuses: number[] = [];
      if (delayMs > 0) await sleep(delayMs);
      for (let i = 0; i <= duplicates; i++) statuses.push(await post(notification).catch(() => 0));
      return statuses;
    },

    verifyNotification(input: NotificationInput): Promise<VerifiedNotification> {
      // synchronous checks, wrapped so a throw becomes a rejected promise like the other adapters
      return Promise.resolve().then(() => {
        const header = requiredHeader(input.headers, SANDBOX_SIGNATURE_HEADER);
        const parts = /^t=(\d{1,12}),v1=([A-Za-z0-9_-]{43})$/.exec(header);
        if (!parts?.[1] || !parts[2]) throw malformed(`header ${SANDBOX_SIGNATURE_HEADER} is not t=…,v1=…`);
        const text = input.rawBody.toString('utf8');
        if (!hmacVerify(options.secret, `${parts[1]}.${text}`, parts[2])) {
          throw new NotificationError(
            NotificationErrors.badSignature,
            'sandbox notification signature does not match',
          );
        }
        if (Math.abs(epochSeconds(clock()) - Number(parts[1])) > options.toleranceSeconds) {
          throw new NotificationError(
            NotificationErrors.stale,
            'sandbox notification timestamp is outside the window',
          );
        }
        const body = parseJsonAs(SandboxBody, text, 'sandbox notification');
        if (body.merchant !== options.merchant) {
          throw new NotificationError(
            NotificationErrors.wrongMerchant,
            'sandbox notification is for another merchant',
          );
        }
        const isRefund = body.type === 'refund.succeeded' || body.type === 'refund.failed';
        if (isRefund !== (body.refundId !== undefined)) {
          throw malformed('sandbox notification: refundId goes with refund notifications only');
        }
        const occurredAt = new Date(body.occurredAt);
        if (Number.isNaN(occurredAt.getTime()))
          throw malformed('sandbox notification: occurredAt is not a time');
        return {
          kind: body.type,
          notificationId: body.id,
          paymentId: body.paymentId,
          providerTxnId: body.txnId,
          amount: notifiedMoney(body.amount, body.currency),
          merchant: body.merchant,
          occurredAt,
          ...(body.refundId !== undefined ? { refundId: body.refundId } : {}),
          ...(body.payer !== undefined && body.type === 'payment.succeeded' ? { payer: body.payer } : {}),
        };
      });
    },

    async query(ref: PaymentRef): Promise<ProviderPaymentState> {
      const payment = await store.get(ref.paymentId);
      if (!payment) return { status: 'unknown' };
      return {
        status: payment.status,
        amount: payment.amount,
        providerTxnId: payment.txnId,
        refunds: payment.refunds.map((r) => ({ refundId: r.refundId, amount: r.amount, status: r.status })),
      };
    },

    refund(input: RefundInput): Promise<RefundResult> {
      return change(input.paymentId, (payment): RefundResult => {
        const same = payment.refunds.find((r) => r.refundId === input.refundId);
        // a repeated refund id is the same refund, as with real providers
        if (same)
          return {
            providerRefundId: same.providerRefundId,
            status: same.status === 'succeeded' ? 'succeeded' : 'pending',
          };
        if (payment.status !== 'succeeded') {
          throw new ProviderError(
            ProviderErrors.rejected,
            'sandbox: only a paid payment can be refunded',
            'TRADE_NOT_PAID',
          );
        }
        if (compare(input.total, payment.amount) !== 0) {
          throw new ProviderError(
            ProviderErrors.rejected,
            'sandbox: total does not match the payment',
            'INVALID_TOTAL',
          );
        }
        const left = subtract(payment.amount, refunded(payment));
        if (input.amount.amount <= 0 || compare(input.amount, left) > 0) {
          throw new ProviderError(
            ProviderErrors.rejected,
            'sandbox: refund exceeds what is left',
            'REFUND_AMOUNT_EXCEEDED',
          );
        }
        const refund = {
          refundId: input.refundId,
          providerRefundId: `sbr_${randomBytes(12).toString('hex')}`,
          amount: input.amount,
          status: 'pending' as const,
        };
        payment.refunds.push(refund);
        return { providerRefundId: refund.providerRefundId, status: 'pending' };
      });
    },

    acknowledge(outcome): Acknowledgement {
      return outcome === 'ok'
        ? { status: 200, contentType: 'application/json', body: '{"received":true}' }
        : { status: 503, contentType: 'application/json', body: '{"received":false}' };
    },
  };
}
