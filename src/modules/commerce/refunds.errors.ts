import { AppError } from '../../platform/errors.js';

/** Stable error codes of refunds and reconciliation; clients and tests branch on these strings. */
export const RefundErrors = {
  courseNotInOrder: 'commerce.refund-course-not-in-order',
  duplicateCourse: 'commerce.refund-duplicate-course',
  exceedsPaid: 'commerce.refund-exceeds-paid',
  exceedsRemaining: 'commerce.refund-exceeds-remaining',
  nothingLeft: 'commerce.refund-nothing-left',
  notDecidable: 'commerce.refund-not-awaiting-decision',
  notFound: 'commerce.refund-not-found',
  orderNotRefundable: 'commerce.order-not-refundable',
  rangeInvalid: 'commerce.reconciliation-range-invalid',
  windowClosed: 'commerce.refund-window-closed',
} as const;

export const RefundRefused = {
  notFound: () => AppError.notFound(RefundErrors.notFound, 'No such refund.'),
  orderNotRefundable: (status: string) =>
    new AppError(
      'conflict',
      RefundErrors.orderNotRefundable,
      `The order is ${status}; it cannot be refunded.`,
      {
        orderStatus: status,
      },
    ),
  exceedsRemaining: (left: number, currency: string) =>
    new AppError(
      'conflict',
      RefundErrors.exceedsRemaining,
      `Only ${left} (minor units of ${currency}) of this order can still be refunded.`,
      { left: { amount: left, currency } },
    ),
  nothingLeft: () => AppError.conflict(RefundErrors.nothingLeft, 'Nothing of this order is left to refund.'),
  windowClosed: (closedAt: Date, days: number) =>
    new AppError(
      'conflict',
      RefundErrors.windowClosed,
      `Refunds can be asked for within ${days} days of payment; this order’s window closed at ${closedAt.toISOString()}. An administrator can still refund it.`,
      { closedAt: closedAt.toISOString(), windowDays: days },
    ),
  notDecidable: (status: string) =>
    new AppError(
      'conflict',
      RefundErrors.notDecidable,
      `The refund is ${status}; only a requested refund can be approved or rejected.`,
      { refundStatus: status },
    ),
} as const;
