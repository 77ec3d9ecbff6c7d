import { type Static, Type } from 'typebox';
import { defineEvent } from '../../platform/messaging/events.js';

/**
 * Events the identity module publishes through its outbox, each declared once with its schema;
 * every `data` shape below is version 1. Publishers build them with `<Event>.create(id, data)`,
 * which the outbox checks; consumers subscribe with the definition from `index.ts`.
 * No event carries a secret (password, token, reset link): the bus is read by every module.
 */

const Id = Type.String({ minLength: 1 });
const NullableText = Type.Union([Type.String(), Type.Null()]);

export const UserRegisteredEvent = defineEvent({
  type: 'identity.user.registered',
  version: 1,
  schema: Type.Object({ userId: Id, email: Type.String(), displayName: Type.String() }),
});
export type UserRegistered = Static<typeof UserRegisteredEvent.schema>;

export const UserVerifiedEvent = defineEvent({
  type: 'identity.user.verified',
  version: 1,
  schema: Type.Object({ userId: Id, email: Type.String() }),
});
export type UserVerified = Static<typeof UserVerifiedEvent.schema>;

export const PasswordResetRequestedEvent = defineEvent({
  type: 'identity.password.reset_requested',
  version: 1,
  schema: Type.Object({ userId: Id, email: Type.String(), expiresAt: Type.String({ format: 'date-time' }) }),
});
export type PasswordResetRequested = Static<typeof PasswordResetRequestedEvent.schema>;

export const InstructorApprovedEvent = defineEvent({
  type: 'identity.instructor.approved',
  version: 1,
  schema: Type.Object({
    userId: Id,
    applicationId: Id,
    approvedBy: Id,
    /** So a consumer can show the new instructor without asking identity. */
    displayName: Type.String(),
  }),
});
export type InstructorApproved = Static<typeof InstructorApprovedEvent.schema>;

export const InstructorRejectedEvent = defineEvent({
  type: 'identity.instructor.rejected',
  version: 1,
  schema: Type.Object({
    userId: Id,
    applicationId: Id,
    rejectedBy: Id,
    /** The reviewer's note, which the applicant is told; null when none was given. */
    note: Type.Union([Type.String(), Type.Null()]),
  }),
});
export type InstructorRejected = Static<typeof InstructorRejectedEvent.schema>;

export const UserDisabledEvent = defineEvent({
  type: 'identity.user.disabled',
  version: 1,
  schema: Type.Object({ userId: Id, disabledBy: Id, reason: NullableText }),
});
export type UserDisabled = Static<typeof UserDisabledEvent.schema>;

export const UserEnabledEvent = defineEvent({
  type: 'identity.user.enabled',
  version: 1,
  schema: Type.Object({ userId: Id, enabledBy: Id }),
});
export type UserEnabled = Static<typeof UserEnabledEvent.schema>;

export const RolesChangedEvent = defineEvent({
  type: 'identity.user.roles_changed',
  version: 1,
  schema: Type.Object({ userId: Id, roles: Type.Array(Type.String()), changedBy: Id }),
});
export type RolesChanged = Static<typeof RolesChangedEvent.schema>;

/**
 * The account's address changed (`POST /auth/email-change/confirm`: the new mailbox proved it),
 * for the copies that mail the user. The new address counts as verified.
 */
export const EmailChangedEvent = defineEvent({
  type: 'identity.user.email_changed',
  version: 1,
  schema: Type.Object({ userId: Id, email: Type.String() }),
});
export type EmailChanged = Static<typeof EmailChangedEvent.schema>;

/**
 * The owner closed the account (`POST /me/close`), for good. Identity has already replaced its
 * personal data; every module drops or blanks its own copies of the user's (a name, an address,
 * an inbox) and keeps what a sale or a shared thread needs under the bare id.
 */
export const UserClosedEvent = defineEvent({
  type: 'identity.user.closed',
  version: 1,
  schema: Type.Object({ userId: Id, closedAt: Type.String({ format: 'date-time' }) }),
});
export type UserClosed = Static<typeof UserClosedEvent.schema>;

/**
 * The owner asked for a copy of their personal data (`POST /me/data-exports`). Every module
 * writes what it holds about the user as its part of the export (`writeExportPart` in
 * `src/platform/personal-data.ts`, key by `exportId` and the module's name); identity serves the
 * parts joined once all are there.
 */
export const DataExportRequestedEvent = defineEvent({
  type: 'identity.data_export.requested',
  version: 1,
  schema: Type.Object({ exportId: Id, userId: Id, requestedAt: Type.String({ format: 'date-time' }) }),
});
export type DataExportRequested = Static<typeof DataExportRequestedEvent.schema>;

/** The whole public profile after a change, so a consumer's copy never needs a lookup. */
export const ProfileUpdatedEvent = defineEvent({
  type: 'identity.user.profile_updated',
  version: 1,
  schema: Type.Object({ userId: Id, displayName: Type.String(), headline: NullableText, bio: NullableText }),
});
export type ProfileUpdated = Static<typeof ProfileUpdatedEvent.schema>;

/**
 * A sign-in from a device the account has not signed in from before (no earlier session with the
 * same user agent), so the owner can be told. The account's first session is not "new": there
 * is nothing to compare it with. The address and user agent are the owner's own.
 */
export const NewDeviceSignInEvent = defineEvent({
  type: 'identity.session.new_device',
  version: 1,
  schema: Type.Object({
    userId: Id,
    sessionId: Id,
    userAgent: NullableText,
    ip: NullableText,
    at: Type.String({ format: 'date-time' }),
  }),
});
export type NewDeviceSignIn = Static<typeof NewDeviceSignInEvent.schema>;

/** The type names, for code that matches on `event.type`. */
export const IdentityEvents = {
  userRegistered: UserRegisteredEvent.type,
  userVerified: UserVerifiedEvent.type,
  passwordResetRequested: PasswordResetRequestedEvent.type,
  instructorApproved: InstructorApprovedEvent.type,
  instructorRejected: InstructorRejectedEvent.type,
  userDisabled: UserDisabledEvent.type,
  userEnabled: UserEnabledEvent.type,
  userClosed: UserClosedEvent.type,
  emailChanged: EmailChangedEvent.type,
  rolesChanged: RolesChangedEvent.type,
  profileUpdated: ProfileUpdatedEvent.type,
  newDeviceSignIn: NewDeviceSignInEvent.type,
  dataExportRequested: DataExportRequestedEvent.type,
} as const;
