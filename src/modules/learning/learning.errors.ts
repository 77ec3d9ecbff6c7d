import { AppError } from '../../platform/errors.js';

/**
 * Every stable error code of the learning module. Clients branch on these strings (the
 * front end turns `learning.purchase-required` into a "buy" button), so a value never changes.
 */
export const LearningErrors = {
  authRequired: 'auth.required',
  certificateNotFound: 'learning.certificate-not-found',
  contentUrlExpired: 'learning.content-url-expired',
  contentUrlInvalid: 'learning.content-url-invalid',
  courseNotFound: 'learning.course-not-found',
  courseNotFree: 'learning.course-not-free',
  entitlementNotFound: 'learning.entitlement-not-found',
  lessonHasNoFile: 'learning.lesson-has-no-file',
  lessonNotFound: 'learning.lesson-not-found',
  purchaseRequired: 'learning.purchase-required',
  reasonRequired: 'learning.reason-required',
  reportedInFuture: 'learning.reported-at-in-future',
  unsupportedSubject: 'learning.unsupported-subject',
} as const;

export type LearningErrorCode = (typeof LearningErrors)[keyof typeof LearningErrors];

export const NotFound = {
  lesson: () => AppError.notFound(LearningErrors.lessonNotFound, 'No such lesson.'),
  course: () => AppError.notFound(LearningErrors.courseNotFound, 'No such course.'),
  certificate: () => AppError.notFound(LearningErrors.certificateNotFound, 'No such certificate.'),
  entitlement: () =>
    AppError.notFound(LearningErrors.entitlementNotFound, 'The user has no such grant of this course.'),
};

/** 403 with what a front end needs to offer the purchase. */
export function purchaseRequired(course: {
  id: string;
  price: { amount: number; currency: string };
  onSale: boolean;
}): AppError {
  return new AppError('forbidden', LearningErrors.purchaseRequired, 'This lesson is part of a paid course.', {
    courseId: course.id,
    price: course.price,
    onSale: course.onSale,
  });
}
