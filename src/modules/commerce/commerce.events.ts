import { type Static, Type } from 'typebox';
import { defineEvent } from '../../platform/messaging/events.js';

/**
 * Events commerce publishes, each declared once with its schema; every `data` shape below is
 * version 1. They are written to the outbox in the same transaction as the order's state change.
 */

const Id = Type.String({ minLength: 1 });
const DateTime = Type.String({ format: 'date-time' });
const Amount = Type.Integer({ minimum: 0 });
const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
const Provider = Type.Union([
  Type.Literal('sandbox'),
  Type.Literal('alipay'),
  Type.Literal('wechatpay'),
  Type.Literal('card'),
]);

const OrderLine = Type.Object({
  courseId: Id,
  title: Type.String(),
  /** What the learner paid for this course after discounts, in minor units of `currency`. */
  amount: Amount,
  instructorIds: Type.Array(Id),
});

export const OrderPaidEvent = defineEvent({
  type: 'commerce.order.paid',
  version: 1,
  schema: Type.Object({
    orderId: Id,
    userId: Id,
    lines: Type.Array(OrderLine, { minItems: 1 }),
    total: Amount,
    currency: Currency,
    provider: Provider,
    paidAt: DateTime,
  }),
});
export type OrderPaid = Static<typeof OrderPaidEvent.schema>;

export const OrderRefundedEvent = defineEvent({
  type: 'commerce.order.refunded',
  version: 1,
  schema: Type.Object({
    orderId: Id,
    userId: Id,
    refundId: Id,
    /** This refund's amount. */
    amount: Amount,
    currency: Currency,
    /** The courses whose access ends with this refund (every course of the order on a full refund). */
    revokedCourseIds: Type.Array(Id),
    /** The order after this refund: `refunded` when nothing paid is left. */
    orderStatus: Type.Union([Type.Literal('partially_refunded'), Type.Literal('refunded')]),
    refundedAt: DateTime,
  }),
});
export type OrderRefunded = Static<typeof OrderRefundedEvent.schema>;

/** A pending order that will not be paid: cancelled by the learner or an admin, or expired by the job. */
export const OrderClosedEvent = defineEvent({
  type: 'commerce.order.closed',
  version: 1,
  schema: Type.Object({
    orderId: Id,
    userId: Id,
    status: Type.Union([Type.Literal('cancelled'), Type.Literal('expired')]),
    closedAt: DateTime,
  }),
});
export type OrderClosed = Static<typeof OrderClosedEvent.schema>;

/** An admin paid an instructor's payout by bank transfer (outside Lectern); the ledger booked it. */
export const PayoutPaidEvent = defineEvent({
  type: 'commerce.payout.paid',
  version: 1,
  schema: Type.Object({
    payoutId: Id,
    instructorId: Id,
    amount: Amount,
    currency: Currency,
    /** The bank transfer's reference. */
    reference: Type.String(),
    paidAt: DateTime,
  }),
});
export type PayoutPaid = Static<typeof PayoutPaidEvent.schema>;

/** An admin rejected an instructor's payout request; its amount is available again. */
export const PayoutRejectedEvent = defineEvent({
  type: 'commerce.payout.rejected',
  version: 1,
  schema: Type.Object({
    payoutId: Id,
    instructorId: Id,
    amount: Amount,
    currency: Currency,
    reason: Type.String(),
    rejectedAt: DateTime,
  }),
});
export type PayoutRejected = Static<typeof PayoutRejectedEvent.schema>;

export const CommerceEvents = [
  OrderPaidEvent,
  OrderRefundedEvent,
  OrderClosedEvent,
  PayoutPaidEvent,
  PayoutRejectedEvent,
] as const;
