// The catalog module's public contract: the only file other modules may import. No logic here.
export {
  type CatalogApi,
  type CatalogLesson,
  CATALOG_INTERNAL_PREFIX,
  catalogHttpClient,
} from './catalog.api.js';
export { type CatalogErrorCode, CatalogErrors } from './catalog.errors.js';
export type {
  CategoryCreated,
  CategoryUpdated,
  CourseArchived,
  CoursePublished,
  CourseRejected,
  CourseSubmitted,
  CourseInstructorAdded,
  CourseInstructorRemoved,
  CourseUpdated,
  InvitationAccepted,
  InvitationClosed,
  InvitationSent,
  LessonAdded,
} from './catalog.events.js';
export {
  CatalogEvents,
  CategoryCreatedEvent,
  CategoryUpdatedEvent,
  CourseArchivedEvent,
  CoursePublishedEvent,
  CourseRejectedEvent,
  CourseSubmittedEvent,
  CourseInstructorAddedEvent,
  CourseInstructorRemovedEvent,
  CourseUpdatedEvent,
  InvitationAcceptedEvent,
  InvitationClosedEvent,
  InvitationSentEvent,
  LessonAddedEvent,
} from './catalog.events.js';
export { CATALOG_REQUIRES } from './catalog.requires.js';
export { CatalogSettings } from './catalog.settings.js';
export { type CatalogDeps, createCatalogModule } from './catalog.module.js';
export type { EntitlementCheck } from './course.access.js';
export type { InstructorDirectory } from './instructors.service.js';
export { type Permission, PERMISSIONS, rolesFor } from './permissions.js';
export type { CourseForSale } from './sales.service.js';
export { seedBulkCourses } from './seed/bulk.js';
export { DEMO_INSTRUCTORS, type DemoInstructor } from './seed/demo.data.js';
export type { AssetKind, LessonKind } from './tables.js';
