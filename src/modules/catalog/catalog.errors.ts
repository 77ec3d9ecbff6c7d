import { AppError } from '../../platform/errors.js';

/**
 * Every stable error code of the catalog. Clients and tests branch on these strings, so a value
 * never changes once released; routes and services name a code only through this object.
 */
export const CatalogErrors = {
  adminRequired: 'catalog.admin-required',
  alreadyInstructor: 'catalog.already-instructor',
  invitationNotFound: 'catalog.invitation-not-found',
  invitationNotAccepted: 'catalog.invitation-not-accepted',
  ownerCannotLeave: 'catalog.owner-cannot-leave',
  notCourseInstructor: 'catalog.not-course-instructor',
  assetInUse: 'catalog.asset-in-use',
  assetKindMismatch: 'catalog.asset-kind-mismatch',
  assetNotAllowed: 'catalog.asset-not-allowed',
  assetNotFound: 'catalog.asset-not-found',
  assetTooLarge: 'catalog.asset-too-large',
  assetTypeNotAllowed: 'catalog.asset-type-not-allowed',
  assetUrlExpired: 'catalog.asset-url-expired',
  assetUrlInvalid: 'catalog.asset-url-invalid',
  /** The platform guard's code for a missing token, reused where a route needs the caller. */
  authRequired: 'auth.required',
  badMultipart: 'catalog.bad-multipart',
  blankField: 'catalog.blank-field',
  bodyNotAllowed: 'catalog.body-not-allowed',
  categoryCycle: 'catalog.category-cycle',
  categoryInUse: 'catalog.category-in-use',
  categoryNotFound: 'catalog.category-not-found',
  categorySlugTaken: 'catalog.category-slug-taken',
  chapterNotEmpty: 'catalog.chapter-not-empty',
  chapterNotFound: 'catalog.chapter-not-found',
  courseArchived: 'catalog.course-archived',
  courseInReview: 'catalog.course-in-review',
  courseIncomplete: 'catalog.course-incomplete',
  courseNotDeletable: 'catalog.course-not-deletable',
  courseNotFound: 'catalog.course-not-found',
  courseNotOnSale: 'catalog.course-not-on-sale',
  fileRequired: 'catalog.file-required',
  instructorNotFound: 'catalog.instructor-not-found',
  /** An internal route (`/internal/v1/catalog/…`) called with a user's token, not a service client's. */
  internalOnly: 'catalog.internal-only',
  invalidCover: 'catalog.invalid-cover',
  invalidTransition: 'catalog.invalid-transition',
  lessonHasNoFile: 'catalog.lesson-has-no-file',
  lessonLocked: 'catalog.lesson-locked',
  lessonNotFound: 'catalog.lesson-not-found',
  noCover: 'catalog.no-cover',
  notCourseOwner: 'catalog.not-course-owner',
  outlineMismatch: 'catalog.outline-mismatch',
  parentCategoryMissing: 'catalog.parent-category-missing',
  rangeNotSatisfiable: 'catalog.range-not-satisfiable',
  reasonRequired: 'catalog.reason-required',
  unknownAsset: 'catalog.unknown-asset',
  unknownCategory: 'catalog.unknown-category',
  unknownInstructor: 'catalog.unknown-instructor',
  unsupportedSubject: 'catalog.unsupported-subject',
  uploadIncomplete: 'catalog.upload-incomplete',
} as const;

export type CatalogErrorCode = (typeof CatalogErrors)[keyof typeof CatalogErrors];

/**
 * The catalog's "no such thing" answers, one per kind of thing, so the code and the wording
 * are the same wherever it is said. Also said of what exists but the caller may not know of.
 */
export const NotFound = {
  course: () => AppError.notFound(CatalogErrors.courseNotFound, 'No such course.'),
  chapter: () => AppError.notFound(CatalogErrors.chapterNotFound, 'No such chapter.'),
  lesson: () => AppError.notFound(CatalogErrors.lessonNotFound, 'No such lesson.'),
  asset: () => AppError.notFound(CatalogErrors.assetNotFound, 'No such file.'),
  category: () => AppError.notFound(CatalogErrors.categoryNotFound, 'No such category.'),
  instructor: () => AppError.notFound(CatalogErrors.instructorNotFound, 'No such instructor.'),
  invitation: () => AppError.notFound(CatalogErrors.invitationNotFound, 'No such invitation.'),
} as const;
