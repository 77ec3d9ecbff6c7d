// The community module's public contract: the only file other modules may import. No logic here.
export type {
  CommentApproved,
  CommentCreated,
  CommentEdited,
  CommentReplied,
  ReviewCreated,
  ReviewDeleted,
  ReviewUpdated,
} from './community.events.js';
export {
  CommentApprovedEvent,
  CommentCreatedEvent,
  CommentEditedEvent,
  CommentRepliedEvent,
  CommunityEvents,
  ReviewCreatedEvent,
  ReviewDeletedEvent,
  ReviewUpdatedEvent,
} from './community.events.js';
export type { CommunityApi } from './community.api.js';
export { type CommunityErrorCode, CommunityErrors } from './community.errors.js';
export { type CommunityDeps, type CommunityModule, createCommunityModule } from './community.module.js';
export { COMMUNITY_REQUIRES } from './community.requires.js';
export { CommunitySettings } from './community.settings.js';
export { type Permission, PERMISSIONS, rolesFor } from './permissions.js';
