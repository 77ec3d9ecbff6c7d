// The identity module's public contract: the only file other modules may import. No logic.
export {
  type DataExportRequested,
  DataExportRequestedEvent,
  type EmailChanged,
  EmailChangedEvent,
  IdentityEvents,
  type InstructorApproved,
  InstructorApprovedEvent,
  type InstructorRejected,
  InstructorRejectedEvent,
  type NewDeviceSignIn,
  NewDeviceSignInEvent,
  type PasswordResetRequested,
  PasswordResetRequestedEvent,
  type ProfileUpdated,
  ProfileUpdatedEvent,
  type RolesChanged,
  RolesChangedEvent,
  type UserClosed,
  UserClosedEvent,
  type UserDisabled,
  UserDisabledEvent,
  type UserEnabled,
  UserEnabledEvent,
  type UserRegistered,
  UserRegisteredEvent,
  type UserVerified,
  UserVerifiedEvent,
} from './identity.events.js';
export {
  IDENTITY_INTERNAL_PREFIX,
  type IdentityApi,
  type IdentityDirectory,
  identityHttpClient,
  type UserSummary,
} from './identity.api.js';
export { createIdentityModule, type IdentityOptions } from './identity.module.js';
export { IdentitySettings } from './identity.settings.js';
export { INTERNAL_SCOPE } from './internal.routes.js';
export type { ClientView, GrantType } from './oauth.service.js';
export { type Permission, PERMISSIONS, type Role, ROLES, rolesFor } from './permissions.js';
export {
  DEMO_ADMIN_ID,
  DEMO_INSTRUCTOR_EMAILS,
  DEMO_LEARNER_IDS,
  DEMO_LEARNERS,
} from './seed/demo.data.js';
