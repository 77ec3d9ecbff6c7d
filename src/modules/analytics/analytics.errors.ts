import { AppError, type FieldProblem } from '../../platform/errors.js';

/** Every stable error code of the analytics module; a value never changes. */
export const AnalyticsErrors = {
  badEvents: 'analytics.bad-events',
  clientIdRequired: 'analytics.client-id-required',
  badRange: 'analytics.bad-range',
  courseNotFound: 'analytics.course-not-found',
  userNotFound: 'analytics.user-not-found',
  unsupportedSubject: 'analytics.unsupported-subject',
} as const;

export type AnalyticsErrorCode = (typeof AnalyticsErrors)[keyof typeof AnalyticsErrors];

export const Invalid = {
  events: (fields: FieldProblem[]) =>
    AppError.validation(
      AnalyticsErrors.badEvents,
      'Some events of the batch are not acceptable; nothing was stored.',
      fields,
    ),
  clientId: () =>
    AppError.validation(
      AnalyticsErrors.clientIdRequired,
      'A client that is not signed in must name itself with an X-Client-Id header.',
      [{ field: '/headers/x-client-id', message: 'required without an access token' }],
    ),
  range: (message: string, field = '/querystring/from') =>
    AppError.validation(AnalyticsErrors.badRange, message, [{ field, message }]),
  subject: () =>
    AppError.forbidden(
      AnalyticsErrors.unsupportedSubject,
      'This token’s subject is not a user of this platform.',
    ),
};

export const NotFound = {
  course: () => AppError.notFound(AnalyticsErrors.courseNotFound, 'No such course.'),
  user: () => AppError.notFound(AnalyticsErrors.userNotFound, 'No such user.'),
};
