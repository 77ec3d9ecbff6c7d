import type { ColumnType, Generated } from 'kysely';
import type { ActorKind, CommerceTables, ProviderNameColumn } from './tables.js';

/** Kysely types of the refund tables (migration 0004-refunds); kept apart so tables.ts stays as it is. */

type Stamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableStamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

export const REFUND_STATUSES = ['requested', 'approved', 'rejected', 'sent', 'succeeded', 'failed'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/** Refunds that may still pay out: they hold their amount against what was paid. */
export const HOLDING_STATUSES: readonly RefundStatus[] = ['requested', 'approved', 'sent', 'succeeded'];

export interface RefundTable {
  id: Generated<string>;
  order_id: string;
  user_id: string;
  /** The succeeded payment the money goes back through. */
  payment_id: string;
  provider: ProviderNameColumn;
  amount: number;
  currency: string;
  status: RefundStatus;
  reason: string;
  requested_by_kind: 'user' | 'admin';
  requested_by: string;
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
  id: Generated<string>;
  refund_id: string;
  from_status: RefundStatus | null;
  to_status: RefundStatus;
  actor_kind: ActorKind;
  actor_id: string | null;
  reason: string;
  at: Date;
}

export type RefundTables = {
  'commerce.refunds': RefundTable;
  'commerce.refund_lines': RefundLineTable;
  'commerce.refund_balances': RefundBalanceTable;
  'commerce.refund_transitions': RefundTransitionTable;
};

/** Commerce's tables with the refund tables. */
export type CommerceRefundTables = CommerceTables & RefundTables;
