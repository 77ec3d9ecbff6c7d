import type { ColumnType, Generated } from 'kysely';

/** A timestamp the database fills in; written as a Date or an ISO string. */
type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

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

export const JOURNAL_KINDS = ['sale', 'refund'] as const;
export type JournalKind = (typeof JOURNAL_KINDS)[number];

/**
 * Accounts of the double-entry ledger. Postings are signed: debit positive, credit negative.
 * `provider_clearing` (asset: money the provider holds for us), `platform_revenue` (the fee),
 * `instructor_payable` (per instructor: what the platform owes them).
 */
export const LEDGER_ACCOUNTS = ['provider_clearing', 'platform_revenue', 'instructor_payable'] as const;
export type LedgerAccount = (typeof LEDGER_ACCOUNTS)[number];

export interface LedgerJournalTable {
  id: Generated<string>;
  kind: JournalKind;
  /** `sale:<orderId>` or `refund:<refundId>`: unique, so an effect is booked once. */
  source_key: string;
  order_id: string;
  refund_id: string | null;
  currency: string;
  fee_bps: number;
  occurred_at: Stamp;
  created_at: Stamp;
}

export interface LedgerPostingTable {
  id: Generated<string>;
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

export type CommerceMoneyTables = {
  'commerce.coupons': CouponTable;
  'commerce.coupon_redemptions': CouponRedemptionTable;
  'commerce.ledger_journals': LedgerJournalTable;
  'commerce.ledger_postings': LedgerPostingTable;
};
