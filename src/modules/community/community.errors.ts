import { AppError } from '../../platform/errors.js';

/** Every stable error code of the community module; a value never changes. */
export const CommunityErrors = {
  alreadyReviewed: 'community.already-reviewed',
  blankField: 'community.blank-field',
  commentNotFound: 'community.comment-not-found',
  courseNotFound: 'community.course-not-found',
  lessonNotFound: 'community.lesson-not-found',
  notInstructor: 'community.not-instructor',
  postingTooFast: 'community.posting-too-fast',
  purchaseRequired: 'community.purchase-required',
  replyOfComment: 'community.no-reply-to-moderate',
  replyToReply: 'community.reply-to-reply',
  reviewNotFound: 'community.review-not-found',
  unsupportedSubject: 'community.unsupported-subject',
} as const;

export type CommunityErrorCode = (typeof CommunityErrors)[keyof typeof CommunityErrors];

export const NotFound = {
  review: () => AppError.notFound(CommunityErrors.reviewNotFound, 'No such review.'),
  comment: () => AppError.notFound(CommunityErrors.commentNotFound, 'No such comment.'),
  course: () => AppError.notFound(CommunityErrors.courseNotFound, 'No such course.'),
  lesson: () => AppError.notFound(CommunityErrors.lessonNotFound, 'No such lesson.'),
};

export const Refused = {
  reviewPurchase: () =>
    AppError.forbidden(CommunityErrors.purchaseRequired, 'Only learners who own this course may review it.'),
  lessonPurchase: () =>
    AppError.forbidden(
      CommunityErrors.purchaseRequired,
      'The discussion of this lesson is open to those who may open the lesson.',
    ),
  alreadyReviewed: () =>
    AppError.conflict(
      CommunityErrors.alreadyReviewed,
      'You have already reviewed this course; edit that review.',
    ),
  notInstructor: () =>
    AppError.forbidden(
      CommunityErrors.notInstructor,
      'Only an instructor of the course may reply to its reviews.',
    ),
  replyToReply: () =>
    AppError.validation(CommunityErrors.replyToReply, 'Replies take no replies; answer the comment itself.', [
      { field: '/body/parentId', message: 'must be a top-level comment' },
    ]),
  replyOfComment: () =>
    AppError.validation(
      CommunityErrors.replyOfComment,
      'Only reviews have an instructor reply; decide on the comment itself.',
      [{ field: '/body/part', message: 'must be "item" for a comment' }],
    ),
  tooFast: (retryAfterSeconds: number) =>
    new AppError(
      'rate_limited',
      CommunityErrors.postingTooFast,
      `You are posting too often. Try again in ${retryAfterSeconds} seconds.`,
      { retryAfterSeconds },
    ),
};
