import type { Money } from '../../../platform/money.js';

/**
 * One interface over every way a learner can pay. Each adapter keeps the provider's network
 * calls and signing rules behind it, so configuration is all a merchant needs.
 */
export type ProviderName = 'sandbox' | 'alipay' | 'wechatpay' | 'card';

/** The fetch the adapters call providers with; injected so tests point it at a local fake provider. */
export type Transport = typeof fetch;

/** How long one call to a provider may take before it counts as unavailable. */
export const PROVIDER_CALL_TIMEOUT_MS = 15_000;

export interface CreatePaymentInput {
  /** Our id of this payment attempt, sent to the provider as its merchant order number (`out_trade_no`). */
  paymentId: string;
  orderId: string;
  amount: Money;
  subject: string;
  /** Where the provider posts its asynchronous notification. */
  notifyUrl: string;
  /** Where the payer's browser comes back to (page payments). */
  returnUrl?: string;
  expiresAt: Date;
}

/** What the client does next to let the payer pay. */
export type PaymentAction =
  | { kind: 'redirect'; url: string }
  | { kind: 'qr'; codeUrl: string }
  | { kind: 'client_secret'; clientSecret: string }
  | { kind: 'sandbox'; payUrl: string };

export type NotificationKind = 'payment.succeeded' | 'payment.closed' | 'refund.succeeded' | 'refund.failed';

/** A notification whose signature, merchant and shape were checked; amounts in minor units. */
export interface VerifiedNotification {
  kind: NotificationKind;
  /** The provider's unique id of this notification, for dropping duplicates. */
  notificationId: string;
  paymentId: string;
  /** The provider's transaction id (Alipay `trade_no`, WeChat `transaction_id`, Stripe PaymentIntent id). */
  providerTxnId: string;
  /** Payments: the amount paid. Refunds: the amount refunded. Compare with the order before acting. */
  amount: Money;
  /** App id / merchant id / account the notification was addressed to, already checked against ours. */
  merchant: string;
  occurredAt: Date;
  /** Refund notifications: our refund id (`out_refund_no`). */
  refundId?: string;
  /**
   * Payments: who paid, as the provider names them (Alipay `buyer_open_id` / `buyer_id`, WeChat Pay
   * `payer.openid`, Stripe's customer id, the sandbox payer). Personal data: sealed at rest, never
   * logged, never in the recorded notification fields.
   */
  payer?: string;
}

export interface ProviderPaymentState {
  status: 'pending' | 'succeeded' | 'closed' | 'unknown';
  amount?: Money;
  providerTxnId?: string;
  /** As `VerifiedNotification.payer`, where the provider's answer names one. */
  payer?: string;
  /** The payment's refunds by our refund id, where the provider's query reports them (the sandbox does). */
  refunds?: { refundId: string; amount: Money; status: ProviderRefundStatus }[];
}

/**
 * What became of a refund at the provider: `pending` while it is processing (or the provider has
 * it but gives no outcome yet), `succeeded` once the money went back, `failed` when it will not
 * (WeChat Pay's CLOSED and ABNORMAL, as their notifications are taken).
 */
export type ProviderRefundStatus = 'pending' | 'succeeded' | 'failed';

/** Which refund to look up: the payment it refunds, and our refund id (`out_refund_no` / `out_request_no`). */
export interface RefundRef extends PaymentRef {
  refundId: string;
}

export interface ProviderRefundState {
  /** `unknown`: the provider has no such refund. */
  status: ProviderRefundStatus | 'unknown';
  /** This refund's amount, as the provider states it; compare with ours before acting. */
  amount?: Money;
  providerRefundId?: string;
}

/** Which payment to look up: our id, plus the provider's reference where it has one (Stripe's PaymentIntent id). */
export interface PaymentRef {
  paymentId: string;
  providerRef?: string;
}

export interface RefundInput extends PaymentRef {
  /** Our refund id, sent as `out_refund_no`; the provider treats a repeat as the same refund. */
  refundId: string;
  amount: Money;
  /** The payment's whole amount (WeChat Pay asks for it with every refund). */
  total: Money;
  reason?: string;
}

export interface RefundResult {
  providerRefundId: string;
  /** `pending`: the outcome comes later as a `refund.succeeded` or `refund.failed` notification. */
  status: 'succeeded' | 'pending';
}

export interface NotificationInput {
  /** Header names in lower case, as Node gives them. */
  headers: Record<string, string | undefined>;
  /** The body exactly as received: signatures cover these bytes. */
  rawBody: Buffer;
  /** Form-encoded notifications (Alipay), already parsed from `rawBody` with duplicate keys refused. */
  form?: Record<string, string>;
}

/** The HTTP answer a provider expects to a notification. */
export interface Acknowledgement {
  status: number;
  contentType: string;
  body: string;
}

export interface PaymentProvider {
  readonly name: ProviderName;
  createPayment(input: CreatePaymentInput): Promise<{ providerRef?: string; action: PaymentAction }>;
  /**
   * Throws NotificationError (with a stable code) on a bad signature, a stale timestamp, another
   * merchant, an unknown key serial or a malformed body; never any other error for what a
   * caller posted.
   */
  verifyNotification(input: NotificationInput): Promise<VerifiedNotification>;
  /** `unknown` when the provider has no such payment. Throws ProviderError when it cannot be asked. */
  query(ref: PaymentRef): Promise<ProviderPaymentState>;
  refund(input: RefundInput): Promise<RefundResult>;
  /**
   * Ask about one refund by our refund id, where the provider has a refund query (Alipay, WeChat
   * Pay); others report refunds through `query`, or not at all. Throws ProviderError when it
   * cannot be asked or its answer does not check.
   */
  queryRefund?(ref: RefundRef): Promise<ProviderRefundState>;
  /**
   * Withdraw an open payment so it can no longer be paid, where the provider needs telling (a
   * Stripe PaymentIntent never expires by itself; Alipay and WeChat Pay trades close at their
   * `time_expire`). Safe to repeat: a payment already withdrawn, or already paid, is done.
   */
  cancel?(ref: PaymentRef): Promise<void>;
  /**
   * The exact answer the provider expects once the notification is safely recorded (`ok`), or
   * when it must send it again (`retry`). Alipay: text `success` / `fail`.
   */
  acknowledge(outcome: 'ok' | 'retry'): Acknowledgement;
}
