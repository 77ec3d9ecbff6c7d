import type { ColumnType, Generated } from 'kysely';

/** A timestamp the database fills in; written as a Date or an ISO string. */
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** jsonb: read as parsed JSON, written as a JSON string (node-postgres would turn arrays into PostgreSQL arrays). */
type Json<T> = ColumnType<T, string, string>;

export const ORDER_STATUSES = [
  'pending',
  'paid',
  'partially_refunded',
  'refunded',
  'cancelled',
  'expired',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const PROVIDER_NAMES = ['sandbox', 'alipay', 'wechatpay', 'card'] as const;
export type ProviderNameColumn = (typeof PROVIDER_NAMES)[number];

export const PAYMENT_STATUSES = ['pending', 'succeeded', 'closed', 'failed'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

export const ACTOR_KINDS = ['user', 'admin', 'provider', 'system'] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

export const NOTIFICATION_OUTCOMES = ['applied', 'duplicate', 'ignored', 'rejected', 'flagged'] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

export interface OrderTable {
  id: Generated<string>;
  user_id: string;
  status: Generated<OrderStatus>;
  currency: string;
  /** Sum of the lines' list prices, minor units. */
  subtotal: number;
  /** Coupon discount, minor units (the coupons work fills it). */
  discount: Generated<number>;
  total: number;
  coupon_code: string | null;
  /** The sorted course ids, joined: finds "the same set" for pending-order reuse. */
  course_set: string;
  expires_at: Date;
  paid_at: NullableStamp;
  /** The provider that settled it. */
  provider: ProviderNameColumn | null;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface OrderLineTable {
  order_id: string;
  course_id: string;
  /** The owner of the order, copied so "one pending order per learner and course" is a unique index. */
  user_id: string;
  /** Whether the order is pending, kept in step with the order so the partial unique index works. */
  pending: boolean;
  title: string;
  instructor_ids: Json<string[]>;
  list_price: number;
  /** What the learner pays for this course after discount, minor units. */
  amount: number;
  position: number;
}

export interface OrderTransitionTable {
  id: Generated<string>;
  order_id: string;
  from_status: OrderStatus | null;
  to_status: OrderStatus;
  actor_kind: ActorKind;
  actor_id: string | null;
  reason: string;
  at: Date;
}

export interface PaymentTable {
  id: Generated<string>;
  order_id: string;
  provider: ProviderNameColumn;
  amount: number;
  currency: string;
  status: Generated<PaymentStatus>;
  /** The provider's own reference (Stripe's PaymentIntent id), needed for query and refund. */
  provider_ref: string | null;
  provider_txn_id: string | null;
  action: Json<unknown>;
  /** The payer's identifier at the provider (buyer id, openid), sealed with COMMERCE_DATA_KEYS. */
  payer_sealed: string | null;
  /** Money arrived for an order that could not take it (closed, or a wrong amount): refund it. */
  flagged: Generated<boolean>;
  flag_reason: string | null;
  succeeded_at: NullableStamp;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface NotificationTable {
  id: Generated<string>;
  provider: ProviderNameColumn;
  notification_id: string;
  payment_id: string | null;
  kind: string;
  provider_txn_id: string;
  /** What the verified notification said (amounts, merchant, time), never secrets. */
  fields: Json<Record<string, unknown>>;
  outcome: NotificationOutcome;
  flagged: boolean;
  flag_reason: string | null;
  received_at: Date;
}

/** The sandbox provider's simulated payments, so the sandbox works across instances and restarts. */
export interface SandboxPaymentTable {
  payment_id: string;
  record: Json<Record<string, unknown>>;
  updated_at: Stamp;
}

export type CommerceTables = {
  'commerce.orders': OrderTable;
  'commerce.order_lines': OrderLineTable;
  'commerce.order_transitions': OrderTransitionTable;
  'commerce.payments': PaymentTable;
  'commerce.notifications': NotificationTable;
  'commerce.sandbox_payments': SandboxPaymentTable;
  'commerce.coupons': CouponTable;
  'commerce.coupon_redemptions': CouponRedemptionTable;
  'commerce.ledger_journals': LedgerJournalTable;
  'commerce.ledger_postings': LedgerPostingTable;
  'commerce.refunds': RefundTable;
  'commerce.refund_lines': RefundLineTable;
  'commerce.refund_balances': RefundBalanceTable;
  'commerce.refund_transitions': RefundTransitionTable;
  'commerce.payouts': PayoutTable;
  'commerce.payout_transitions': PayoutTransitionTable;
};

// ---- coupons ----

export const COUPON_KINDS = ['percentage', 'fixed'] as const;
export type CouponKind = (typeof COUPON_KINDS)[number];

export const COUPON_SCOPES = ['all', 'courses', 'categories'] as const;
export type CouponScope = (typeof COUPON_SCOPES)[number];

export interface CouponTable {
  id: Generated<string>;
  /** Stored upper-case; learners type it in any case. */
  code: string;
  kind: CouponKind;
  /** `percentage`: the discount in basis points (1500 = 15 %). */
  percent_bps: number | null;
  /** `fixed`: the amount off, in minor units of `currency`. */
  amount_off: number | null;
  /** Required for `fixed` and for a min spend; a percentage coupon without one fits any currency. */
  currency: string | null;
  /** The least the eligible lines must add up to, in minor units of `currency`. */
  min_spend: number | null;
  scope: CouponScope;
  /** Course ids (`courses`) or category ids (`categories`); empty for `all`. */
  scope_ids: string[];
  starts_at: NullableStamp;
  ends_at: NullableStamp;
  total_limit: number | null;
  per_user_limit: number | null;
  /** Redemptions not released; the row lock on the coupon keeps it below `total_limit`. */
  redeemed_count: Generated<number>;
  active: Generated<boolean>;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface CouponRedemptionTable {
  id: Generated<string>;
  coupon_id: string;
  user_id: string;
  order_id: string;
  discount: number;
  currency: string;
  /** `released` when its order was cancelled or expired; a refund keeps it. */
  status: 'active' | 'released';
  created_at: Stamp;
  released_at: NullableStamp;
}

// ---- the earnings ledger ----

export const JOURNAL_KINDS = ['sale', 'refund', 'payout'] as const;
export type JournalKind = (typeof JOURNAL_KINDS)[number];

/**
 * Accounts of the double-entry ledger. Postings are signed: debit positive, credit negative.
 * `provider_clearing` (asset: money the provider holds for us), `platform_revenue` (the fee),
 * `instructor_payable` (per instructor: what the platform owes them), `payout_clearing` (what was
 * paid out to instructors by bank transfer, outside Lectern; migration 0006-payouts).
 */
export const LEDGER_ACCOUNTS = [
  'provider_clearing',
  'platform_revenue',
  'instructor_payable',
  'payout_clearing',
] as const;
export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

export interface LedgerJournalTable {
  id: Generated<string>;
  kind: JournalKind;
  /** `sale:<orderId>`, `refund:<refundId>` or `payout:<payoutId>`: unique, so an effect is booked once. */
  source_key: string;
  /** The sold order; null for a payout journal only. */
  order_id: string | null;
  refund_id: string | null;
  payout_id: string | null;
  currency: string;
  /**
   * The platform's fee rate (COMMERCE_PLATFORM_FEE_BPS) the journal was booked under. A payout
   * credits no fee to `platform_revenue`, so it books 0: the column is NOT NULL (0003), and 0 is
   * what "no fee" is in basis points.
   */
  fee_bps: number;
  occurred_at: Stamp;
  created_at: Stamp;
}

export interface LedgerPostingTable {
  /** A bigserial: the driver hands int8 over as a number (the parser set in platform/db/database.ts). */
  id: Generated<number>;
  journal_id: string;
  account: LedgerAccount;
  /** The instructor of an `instructor_payable` posting; null for the other accounts. */
  instructor_id: string | null;
  course_id: string | null;
  /** Minor units of `currency`; debit positive, credit negative. */
  amount: number;
  currency: string;
  occurred_at: Stamp;
}

// ---- refunds (migration 0004-refunds) ----

export const REFUND_STATUSES = ['requested', 'approved', 'rejected', 'sent', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** Refunds that may still pay out: they hold their amount against what was paid. */
export const HOLDING_STATUSES: readonly RefundStatus[] = ['requested', 'approved', 'sent', 'succeeded'];

/** `order`: a learner's or admin's refund of order lines; `flagged-payment`: money that could not be kept, sent back whole. */
export type RefundKind = 'order' | 'flagged-payment';

export interface RefundTable {
  id: Generated<string>;
  kind: Generated<RefundKind>;
  order_id: string;
  user_id: string;
  /** The succeeded payment the money goes back through. */
  payment_id: string;
  provider: ProviderNameColumn;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  requested_by_kind: 'user' | 'admin' | 'system';
  /** The user who asked; null when the system did (a flagged payment given back). */
  requested_by: string | null;
  consumed_bps: number | null;
  /** Why a learner's request waits for an admin; null when approved by rule. */
  review_reason: string | null;
  decided_by_kind: 'admin' | 'system' | null;
  decided_by: string | null;
  decision_reason: string | null;
  decided_at: NullableStamp;
  provider_refund_id: string | null;
  failure_reason: string | null;
  sent_at: NullableStamp;
  settled_at: NullableStamp;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface RefundLineTable {
  refund_id: string;
  order_id: string;
  course_id: string;
  amount: number;
}

export interface RefundBalanceTable {
  order_id: string;
  course_id: string;
  paid: number;
  reserved: Generated<number>;
}

export interface RefundTransitionTable {
  /** A bigserial, a number like every int8 (see LedgerPostingTable.id). */
  id: Generated<number>;
  refund_id: string;
  from_status: RefundStatus | null;
  to_status: RefundStatus;
  actor_kind: ActorKind;
  actor_id: string | null;
  reason: string;
  at: Date;
}

// ---- instructor payouts (migration 0006-payouts) ----

export const PAYOUT_STATUSES = ['requested', 'paid', 'rejected', 'cancelled'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export interface PayoutTable {
  id: Generated<string>;
  instructor_id: string;
  /** Minor units of `currency`, positive. */
  amount: number;
  currency: string;
  /** `requested` reserves its amount until it is paid, rejected or cancelled. */
  status: PayoutStatus;
  /** The bank transfer's reference, given by the admin who marked it paid. */
  reference: string | null;
  rejection_reason: string | null;
  /** The admin who paid or rejected it (the instructor's own cancel leaves it null). */
  decided_by: string | null;
  decided_at: NullableStamp;
  /** The `payout:<id>` ledger journal of a paid payout. */
  journal_id: string | null;
  created_at: Stamp;
  updated_at: Stamp;
}

export interface PayoutTransitionTable {
  /** A bigserial, a number like every int8 (see LedgerPostingTable.id). */
  id: Generated<number>;
  payout_id: string;
  from_status: PayoutStatus | null;
  to_status: PayoutStatus;
  actor_kind: ActorKind;
  actor_id: string | null;
  reason: string;
  at: Date;
}

/**
 * Every column of orders and of payments, named: what the prepared statements answer instead of
 * `*` (see preparedStatement). A column added to a table type and missing here fails the build
 * where such a row is returned as the table's row.
 */
export const ORDER_COLUMNS = [
  'id',
  'user_id',
  'status',
  'currency',
  'subtotal',
  'discount',
  'total',
  'coupon_code',
  'course_set',
  'expires_at',
  'paid_at',
  'provider',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof OrderTable)[];

export const PAYMENT_COLUMNS = [
  'id',
  'order_id',
  'provider',
  'amount',
  'currency',
  'status',
  'provider_ref',
  'provider_txn_id',
  'action',
  'payer_sealed',
  'flagged',
  'flag_reason',
  'succeeded_at',
  'created_at',
  'updated_at',
] as const satisfies readonly (keyof PaymentTable)[];
