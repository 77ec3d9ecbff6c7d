import { AppError } from '../../platform/errors.js';

/**
 * Every stable error code of commerce (the provider adapters keep theirs in
 * `providers/provider.errors.ts`). Clients and tests branch on these strings, so a value never
 * changes once released; routes and services name a code only through this object.
 */
export const CommerceErrors = {
  alreadyOwned: 'commerce.already-owned',
  courseFree: 'commerce.course-free-enrol-instead',
  courseNotFound: 'commerce.course-not-found',
  courseNotOnSale: 'commerce.course-not-on-sale',
  duplicateCourse: 'commerce.duplicate-course',
  invalidTransition: 'commerce.invalid-transition',
  mixedCurrencies: 'commerce.mixed-currencies',
  orderExpired: 'commerce.order-expired',
  orderNotFound: 'commerce.order-not-found',
  orderTooLarge: 'commerce.order-too-large',
  orderNotPending: 'commerce.order-not-pending',
  paymentNotFound: 'commerce.payment-not-found',
  pendingOrderExists: 'commerce.pending-order-exists',
  providerNotConfigured: 'commerce.provider-not-configured',
  unknownProvider: 'commerce.unknown-provider',
  unsupportedSubject: 'commerce.unsupported-subject',
} as const;

export type CommerceErrorCode = (typeof CommerceErrors)[keyof typeof CommerceErrors];

/** Commerce's "no such thing" answers; also said of what exists but belongs to someone else. */
export const NotFound = {
  order: () => AppError.notFound(CommerceErrors.orderNotFound, 'No such order.'),
  payment: () => AppError.notFound(CommerceErrors.paymentNotFound, 'No such payment.'),
  course: () => AppError.notFound(CommerceErrors.courseNotFound, 'No such course.'),
} as const;
