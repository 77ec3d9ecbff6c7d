import { AppError } from '../../platform/errors.js';

/**
 * Every stable error code of commerce (the provider adapters keep theirs in
 * `providers/provider.errors.ts`). Clients and tests branch on these strings, so a value never
 * changes once released; routes and services name a code only through this object.
 */
export const CommerceErrors = {
  alreadyOwned: 'commerce.already-owned',
  cartInvalid: 'commerce.cart-invalid',
  couponCodeTaken: 'commerce.coupon-code-taken',
  couponCurrencyMismatch: 'commerce.coupon-currency-mismatch',
  couponExhausted: 'commerce.coupon-exhausted',
  couponExpired: 'commerce.coupon-expired',
  couponInUse: 'commerce.coupon-in-use',
  couponInactive: 'commerce.coupon-inactive',
  couponInvalid: 'commerce.coupon-invalid',
  couponMinSpend: 'commerce.coupon-min-spend-not-met',
  couponNotFound: 'commerce.coupon-not-found',
  couponNotStarted: 'commerce.coupon-not-started',
  couponScopeMismatch: 'commerce.coupon-scope-mismatch',
  couponUserLimit: 'commerce.coupon-user-limit-reached',
  courseFree: 'commerce.course-free-enrol-instead',
  courseNotFound: 'commerce.course-not-found',
  courseNotOnSale: 'commerce.course-not-on-sale',
  duplicateCourse: 'commerce.duplicate-course',
  invalidTransition: 'commerce.invalid-transition',
  mixedCurrencies: 'commerce.mixed-currencies',
  orderExpired: 'commerce.order-expired',
  orderNotFound: 'commerce.order-not-found',
  orderNotPending: 'commerce.order-not-pending',
  orderTooLarge: 'commerce.order-too-large',
  paymentNotFound: 'commerce.payment-not-found',
  pendingOrderExists: 'commerce.pending-order-exists',
  pendingOrderCoupon: 'commerce.pending-order-coupon',
  providerNotConfigured: 'commerce.provider-not-configured',
  reportRangeInvalid: 'commerce.report-range-invalid',
  unknownProvider: 'commerce.unknown-provider',
  unsupportedSubject: 'commerce.unsupported-subject',
  // refunds and reconciliation
  orderNotRefundable: 'commerce.order-not-refundable',
  reconciliationRangeInvalid: 'commerce.reconciliation-range-invalid',
  refundCourseNotInOrder: 'commerce.refund-course-not-in-order',
  refundDuplicateCourse: 'commerce.refund-duplicate-course',
  refundExceedsPaid: 'commerce.refund-exceeds-paid',
  refundExceedsRemaining: 'commerce.refund-exceeds-remaining',
  refundNotDecidable: 'commerce.refund-not-awaiting-decision',
  refundNotFound: 'commerce.refund-not-found',
  refundNothingLeft: 'commerce.refund-nothing-left',
  refundWindowClosed: 'commerce.refund-window-closed',
  // instructor payouts
  payoutCurrencyInvalid: 'commerce.payout-currency-invalid',
  payoutExceedsAvailable: 'commerce.payout-exceeds-available',
  payoutNotFound: 'commerce.payout-not-found',
  payoutNotRequested: 'commerce.payout-not-requested',
} as const;

export type CommerceErrorCode = (typeof CommerceErrors)[keyof typeof CommerceErrors];

/** Commerce's "no such thing" answers; also said of what exists but belongs to someone else. */
export const NotFound = {
  order: () => AppError.notFound(CommerceErrors.orderNotFound, 'No such order.'),
  payment: () => AppError.notFound(CommerceErrors.paymentNotFound, 'No such payment.'),
  course: () => AppError.notFound(CommerceErrors.courseNotFound, 'No such course.'),
} as const;

/** Why a coupon does not apply: a conflict with its rules, never a server error. */
export const CouponRefused = {
  notFound: () => AppError.notFound(CommerceErrors.couponNotFound, 'No such coupon.'),
  inactive: () => AppError.conflict(CommerceErrors.couponInactive, 'This coupon is no longer active.'),
  notStarted: () => AppError.conflict(CommerceErrors.couponNotStarted, 'This coupon is not valid yet.'),
  expired: () => AppError.conflict(CommerceErrors.couponExpired, 'This coupon has expired.'),
  exhausted: () => AppError.conflict(CommerceErrors.couponExhausted, 'This coupon has been used up.'),
  userLimit: () =>
    AppError.conflict(
      CommerceErrors.couponUserLimit,
      'You have already used this coupon as often as allowed.',
    ),
  scope: () =>
    AppError.conflict(
      CommerceErrors.couponScopeMismatch,
      'This coupon does not apply to any course in the cart.',
    ),
  currency: (couponCurrency: string, cartCurrency: string) =>
    AppError.conflict(
      CommerceErrors.couponCurrencyMismatch,
      `This coupon is in ${couponCurrency}; the cart is in ${cartCurrency}.`,
    ),
  minSpend: (needed: string) =>
    AppError.conflict(CommerceErrors.couponMinSpend, `This coupon needs a spend of at least ${needed}.`),
} as const;

/** Why a refund is refused: the order's state, the window, or what is left to refund. */
export const RefundRefused = {
  notFound: () => AppError.notFound(CommerceErrors.refundNotFound, 'No such refund.'),
  orderNotRefundable: (status: string) =>
    new AppError(
      'conflict',
      CommerceErrors.orderNotRefundable,
      `The order is ${status}; it cannot be refunded.`,
      {
        orderStatus: status,
      },
    ),
  exceedsRemaining: (left: number, currency: string) =>
    new AppError(
      'conflict',
      CommerceErrors.refundExceedsRemaining,
      `Only ${left} (minor units of ${currency}) of this order can still be refunded.`,
      { left: { amount: left, currency } },
    ),
  nothingLeft: () =>
    AppError.conflict(CommerceErrors.refundNothingLeft, 'Nothing of this order is left to refund.'),
  windowClosed: (closedAt: Date, days: number) =>
    new AppError(
      'conflict',
      CommerceErrors.refundWindowClosed,
      `Refunds can be asked for within ${days} days of payment; this order’s window closed at ${closedAt.toISOString()}. An administrator can still refund it.`,
      { closedAt: closedAt.toISOString(), windowDays: days },
    ),
  notDecidable: (status: string) =>
    new AppError(
      'conflict',
      CommerceErrors.refundNotDecidable,
      `The refund is ${status}; only a requested refund can be approved or rejected.`,
      { refundStatus: status },
    ),
} as const;

/** Why a payout request or decision is refused. */
export const PayoutRefused = {
  notFound: () => AppError.notFound(CommerceErrors.payoutNotFound, 'No such payout.'),
  currency: (currency: string) =>
    AppError.validation(
      CommerceErrors.payoutCurrencyInvalid,
      `${currency} is not a currency payouts are made in.`,
      [{ field: '/body/currency', message: 'must be a supported ISO 4217 currency' }],
    ),
  exceedsAvailable: (available: number, currency: string) =>
    new AppError(
      'conflict',
      CommerceErrors.payoutExceedsAvailable,
      `Only ${Math.max(available, 0)} (minor units of ${currency}) is available for a payout.`,
      { available: { amount: Math.max(available, 0), currency } },
    ),
  notRequested: (status: string) =>
    new AppError(
      'conflict',
      CommerceErrors.payoutNotRequested,
      `The payout is ${status}; only a requested payout can be paid, rejected or cancelled.`,
      { payoutStatus: status },
    ),
} as const;
