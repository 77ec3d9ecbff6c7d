import { DataExportRequestedEvent, UserRegisteredEvent } from '../identity/index.js';
import {
  CategoryCreatedEvent,
  CategoryUpdatedEvent,
  CourseArchivedEvent,
  CourseInstructorAddedEvent,
  CourseInstructorRemovedEvent,
  CoursePublishedEvent,
  CourseUpdatedEvent,
} from '../catalog/index.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import {
  CourseCompletedEvent,
  EntitlementGrantedEvent,
  EntitlementRevokedEvent,
  LessonCompletedEvent,
} from '../learning/index.js';
import { CommentCreatedEvent, ReviewCreatedEvent } from '../community/index.js';

/**
 * Analytics publishes no events: it only listens. These are the events it consumes, by the
 * definitions their publishers export; all but the `dataExport` and `catalog` lists are also
 * kept as raw events.
 */
export const ConsumedEvents = {
  /** Kept as raw events and copied into order lines, purchases and co-purchase counts. */
  commerce: [OrderPaidEvent, OrderRefundedEvent],
  /** Kept as raw events; grants and revocations also keep the owned set. */
  learning: [EntitlementGrantedEvent, EntitlementRevokedEvent, LessonCompletedEvent, CourseCompletedEvent],
  community: [ReviewCreatedEvent, CommentCreatedEvent],
  identity: [UserRegisteredEvent],
  /** A user's request for a copy of their data: answered with analytics' part (not a raw event). */
  dataExport: [DataExportRequestedEvent],
  /** Course facts for recommendations and instructor scoping (not kept as raw events). */
  catalog: [
    CategoryCreatedEvent,
    CategoryUpdatedEvent,
    CoursePublishedEvent,
    CourseUpdatedEvent,
    CourseArchivedEvent,
    CourseInstructorAddedEvent,
    CourseInstructorRemovedEvent,
  ],
} as const;
