/**
 * Events the identity module publishes through its outbox; `data` shapes are version 1.
 * No event carries a secret (password, token, reset link): the bus is read by every module.
 */
export const IdentityEvents = {
  userRegistered: 'identity.user.registered',
  userVerified: 'identity.user.verified',
  passwordResetRequested: 'identity.password.reset_requested',
  instructorApproved: 'identity.instructor.approved',
  userDisabled: 'identity.user.disabled',
  userEnabled: 'identity.user.enabled',
  rolesChanged: 'identity.user.roles_changed',
  profileUpdated: 'identity.user.profile_updated',
} as const;

export interface UserRegistered {
  userId: string;
  email: string;
  displayName: string;
}

export interface UserVerified {
  userId: string;
  email: string;
}

export interface PasswordResetRequested {
  userId: string;
  email: string;
  expiresAt: string;
}

export interface InstructorApproved {
  userId: string;
  applicationId: string;
  approvedBy: string;
  /** So a consumer can show the new instructor without asking identity. */
  displayName: string;
}

export interface UserDisabled {
  userId: string;
  disabledBy: string;
  reason: string | null;
}

export interface UserEnabled {
  userId: string;
  enabledBy: string;
}

export interface RolesChanged {
  userId: string;
  roles: string[];
  changedBy: string;
}

/** The whole public profile after a change, so a consumer's copy never needs a lookup. */
export interface ProfileUpdated {
  userId: string;
  displayName: string;
  headline: string | null;
  bio: string | null;
}
