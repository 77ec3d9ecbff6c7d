import type { UserRow } from './users.queries.js';

/** The wire shape of an account; the row shape is not a promise. */
export interface UserView {
  id: string;
  email: string;
  displayName: string;
  emailVerified: boolean;
  roles: string[];
  status: 'active' | 'disabled';
  mfaEnabled: boolean;
  headline: string | null;
  bio: string | null;
  createdAt: string;
}

export interface AdminUserView extends UserView {
  disabledAt: string | null;
  disabledReason: string | null;
}

export const toUserView = (row: UserRow, mfaEnabled: boolean): UserView => ({
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
