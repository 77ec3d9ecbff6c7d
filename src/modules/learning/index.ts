// The learning module's public contract: the only file other modules may import. No logic here.
export type {
  CertificateIssued,
  CourseCompleted,
  EntitlementGranted,
  EntitlementRevoked,
  LessonCompleted,
} from './learning.events.js';
export {
  CertificateIssuedEvent,
  CourseCompletedEvent,
  EntitlementGrantedEvent,
  EntitlementRevokedEvent,
  LearningEvents,
  LessonCompletedEvent,
} from './learning.events.js';
