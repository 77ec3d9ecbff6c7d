import type { Selectable } from 'kysely';
import type { Static } from 'typebox';
import type { AdminUser, Application, User } from './me.schemas.js';
import type { InstructorApplicationTable } from './tables.js';
import type { ProfileRow, UserRow } from './users.queries.js';

/** Wire shapes come from the response schemas; the row shape is not a promise. */
export type UserView = Static<typeof User>;
export type AdminUserView = Static<typeof AdminUser>;
export type InstructorApplicationView = Static<typeof Application>;

/** A profile's columns; a whole user row has them too. */
export const toUserView = (row: ProfileRow, mfaEnabled: boolean): UserView => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  emailVerified: row.email_verified_at !== null,
  roles: row.roles,
  status: row.status,
  mfaEnabled,
  headline: row.headline,
  bio: row.bio,
  createdAt: row.created_at.toISOString(),
});

export const toAdminUserView = (row: UserRow, mfaEnabled: boolean): AdminUserView => ({
  ...toUserView(row, mfaEnabled),
  disabledAt: row.disabled_at?.toISOString() ?? null,
  disabledReason: row.disabled_reason,
});

export const toApplicationView = (
  row: Selectable<InstructorApplicationTable>,
): InstructorApplicationView => ({
  id: row.id,
  userId: row.user_id,
  motivation: row.motivation,
  status: row.status,
  decisionNote: row.decision_note,
  decidedAt: row.decided_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
});
