import { AppError } from '../../platform/errors.js';

/**
 * Every stable error code of commerce. Clients and tests branch on these strings, so a value
 * never changes once released; routes and services name a code only through this object.
 */
export const CommerceErrors = {
  couponCodeTaken: 'commerce.coupon-code-taken',
  couponCurrencyMismatch: 'commerce.coupon-currency-mismatch',
  couponExhausted: 'commerce.coupon-exhausted',
  couponExpired: 'commerce.coupon-expired',
  couponInactive: 'commerce.coupon-inactive',
  couponInUse: 'commerce.coupon-in-use',
  couponInvalid: 'commerce.coupon-invalid',
  couponMinSpend: 'commerce.coupon-min-spend-not-met',
  couponNotFound: 'commerce.coupon-not-found',
  couponNotStarted: 'commerce.coupon-not-started',
  couponScopeMismatch: 'commerce.coupon-scope-mismatch',
  couponUserLimit: 'commerce.coupon-user-limit-reached',
  cartInvalid: 'commerce.cart-invalid',
  courseNotFound: 'commerce.course-not-found',
  reportRangeInvalid: 'commerce.report-range-invalid',
} as const;

export type CommerceErrorCode = (typeof CommerceErrors)[keyof typeof CommerceErrors];

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
