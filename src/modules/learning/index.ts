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
export { LEARNING_INTERNAL_PREFIX, type LearningApi, learningHttpClient } from './learning.api.js';
export { type LearningErrorCode, LearningErrors } from './learning.errors.js';
export { createLearningModule, type LearningDeps, type LearningModule } from './learning.module.js';
export { LEARNING_REQUIRES } from './learning.requires.js';
export { LearningSettings } from './learning.settings.js';
export { type Permission, PERMISSIONS, rolesFor } from './permissions.js';
