/**
 * Notify publishes no events: nothing else needs to know a message went out. It consumes these
 * (definitions imported from each publisher's `index.ts` in `subscribers.ts`).
 */
export const ConsumedEvents = {
  identity: [
    'identity.user.registered',
    'identity.user.profile_updated',
    'identity.user.roles_changed',
    'identity.user.closed',
    'identity.user.email_changed',
    'identity.password.reset_requested',
    'identity.session.new_device',
    'identity.instructor.approved',
    'identity.instructor.rejected',
    'identity.data_export.requested',
  ],
  catalog: [
    'catalog.course.published',
    'catalog.course.rejected',
    'catalog.course.updated',
    'catalog.lesson.added',
  ],
  commerce: [
    'commerce.order.paid',
    'commerce.order.refunded',
    'commerce.payout.paid',
    'commerce.payout.rejected',
  ],
  learning: ['learning.entitlement.granted', 'learning.entitlement.revoked', 'learning.certificate.issued'],
  community: [
    'community.comment.replied',
    'community.comment.created',
    'community.comment.approved',
    'community.comment.edited',
    'community.review.created',
    'community.review.updated',
  ],
} as const;
