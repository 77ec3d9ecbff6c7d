// The identity module's public contract: the only file other modules may import.
import type { LecternModule, Platform } from '../../platform/module.js';
import { buildIdentity, type IdentityApi, type IdentityOptions } from './identity.module.js';

export {
  IdentityEvents,
  type InstructorApproved,
  InstructorApprovedEvent,
  type PasswordResetRequested,
  PasswordResetRequestedEvent,
  type ProfileUpdated,
  ProfileUpdatedEvent,
  type RolesChanged,
  RolesChangedEvent,
  type UserDisabled,
  UserDisabledEvent,
  type UserEnabled,
  UserEnabledEvent,
  type UserRegistered,
  UserRegisteredEvent,
  type UserVerified,
  UserVerifiedEvent,
} from './identity.events.js';
export type { IdentityApi, IdentityOptions, UserSummary } from './identity.module.js';
export type { ClientView, GrantType } from './oauth.service.js';
export { type Permission, PERMISSIONS, type Role, ROLES, rolesFor } from './permissions.js';
export { DEMO_INSTRUCTOR_EMAILS } from './seed.js';

export function createIdentityModule(
  platform: Platform,
  options: IdentityOptions = {},
): LecternModule & { api: IdentityApi } {
  return buildIdentity(platform, options).module;
}
