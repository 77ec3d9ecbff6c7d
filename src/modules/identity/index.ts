// The identity module's public contract: the only file other modules may import.
import type { LecternModule, Platform } from '../../platform/module.js';
import { buildIdentity, type IdentityApi, type IdentityOptions } from './identity.module.js';

export {
  IdentityEvents,
  type InstructorApproved,
  type PasswordResetRequested,
  type RolesChanged,
  type UserDisabled,
  type UserEnabled,
  type UserRegistered,
  type UserVerified,
} from './identity.events.js';
export {
  IDENTITY_INTERNAL_PREFIX,
  type IdentityDirectory,
  identityHttpClient,
} from './identity.api.js';
export type { IdentityApi, IdentityOptions, UserSummary } from './identity.module.js';
export { IdentitySettings } from './identity.settings.js';
export { INTERNAL_SCOPE } from './internal.routes.js';
export type { ClientView, GrantType } from './oauth.service.js';
export { type Permission, PERMISSIONS, type Role, ROLES, rolesFor } from './permissions.js';
export { DEMO_INSTRUCTOR_EMAILS } from './seed.js';

export function createIdentityModule(
  platform: Platform,
  options: IdentityOptions = {},
): LecternModule & { api: IdentityApi } {
  return buildIdentity(platform, options).module;
}
