import type { ColumnType, Generated } from 'kysely';

/** Written as a Date or an ISO string, always read back as a Date. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

/** `closed`: closed by its owner (`POST /me/close`), for good; its personal data is gone. */
export type UserStatus = 'active' | 'disabled' | 'closed';

export interface UserTable {
  id: Generated<string>;
  /** Normalised (trimmed, NFKC, lower-case); unique. */
  email: string;
  display_name: string;
  password_hash: string;
  email_verified_at: Timestamp | null;
  roles: ColumnType<string[], string[] | undefined, string[]>;
  status: ColumnType<UserStatus, UserStatus | undefined, UserStatus>;
  disabled_at: Timestamp | null;
  disabled_reason: string | null;
  closed_at: Timestamp | null;
  headline: string | null;
  bio: string | null;
  password_changed_at: GeneratedTimestamp;
  created_at: GeneratedTimestamp;
  updated_at: GeneratedTimestamp;
}

export type OneTimeTokenPurpose = 'verify_email' | 'reset_password' | 'change_email';

export interface OneTimeTokenTable {
  id: Generated<string>;
  user_id: string;
  purpose: OneTimeTokenPurpose;
  token_hash: string;
  created_at: GeneratedTimestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  /** The address a `change_email` token confirms (normalised); null for the other purposes. */
  new_email: string | null;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  public_jwk: Json<Record<string, string>>;
  /** Private JWK sealed by the secret box (`v1.` AES-256-GCM, or `plain.` without a secret). */
  private_jwk: string;
  created_at: GeneratedTimestamp;
  /** Signs tokens from this time; published in the JWKS from creation. */
  activated_at: Timestamp;
  /** Stops signing from this time. */
  retired_at: Timestamp | null;
  /** Leaves the JWKS at this time: after the last token it signed has expired. */
  expires_at: Timestamp | null;
}

export interface ClientTable {
  client_id: string;
  name: string;
  /** sha256 of a generated high-entropy secret; null for public clients. */
  secret_hash: string | null;
  grant_types: string[];
  scopes: string[];
  first_party: boolean;
  created_at: GeneratedTimestamp;
  disabled_at: Timestamp | null;
}

export interface SessionTable {
  /** The refresh-token family id; `sid` in access tokens. */
  id: Generated<string>;
  user_id: string;
  client_id: string;
  scope: string | null;
  amr: string[];
  auth_time: Timestamp;
  created_at: GeneratedTimestamp;
  last_used_at: Timestamp;
  /** Absolute end of the family, however often it is refreshed. */
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  revoked_reason: string | null;
  ip: string | null;
  user_agent: string | null;
}

export interface RefreshTokenTable {
  id: Generated<string>;
  session_id: string;
  token_hash: string;
  created_at: GeneratedTimestamp;
  expires_at: Timestamp;
  /** Set when exchanged; presenting it again is reuse and revokes the family. */
  used_at: Timestamp | null;
}

export interface TotpTable {
  user_id: string;
  /** Base32 secret sealed by the secret box. */
  secret: string;
  confirmed_at: Timestamp | null;
  /** RFC 6238 time step of the last accepted code; codes at or before it are refused. */
  last_used_step: number | null;
  created_at: GeneratedTimestamp;
}

export interface RecoveryCodeTable {
  id: Generated<string>;
  user_id: string;
  code_hash: string;
  used_at: Timestamp | null;
  created_at: GeneratedTimestamp;
}

export type ApplicationStatus = 'pending' | 'approved' | 'rejected';

export interface InstructorApplicationTable {
  id: Generated<string>;
  user_id: string;
  motivation: string;
  status: ColumnType<ApplicationStatus, ApplicationStatus | undefined, ApplicationStatus>;
  decided_by: string | null;
  decided_at: Timestamp | null;
  decision_note: string | null;
  created_at: GeneratedTimestamp;
}

/** A request for a copy of the user's personal data; its parts are in the platform's storage. */
export interface DataExportTable {
  id: string;
  user_id: string;
  requested_at: Timestamp;
  expires_at: Timestamp;
  /** The modules expected to write a part. */
  parts: string[];
  /** When the owner was mailed that it is ready. */
  ready_notified_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface AuditEventTable {
  id: Generated<string>;
  occurred_at: Timestamp;
  type: string;
  /** The account the event is about; null for failed logins with an unknown email. */
  user_id: string | null;
  /** Who caused it, when not the user themself (an admin). */
  actor_id: string | null;
  ip: string | null;
  user_agent: string | null;
  details: Json<Record<string, unknown>>;
  seq: ColumnType<number | string, never, never>;
}

export type IdentityTables = {
  'identity.users': UserTable;
  'identity.one_time_tokens': OneTimeTokenTable;
  'identity.signing_keys': SigningKeyTable;
  'identity.clients': ClientTable;
  'identity.sessions': SessionTable;
  'identity.refresh_tokens': RefreshTokenTable;
  'identity.totp': TotpTable;
  'identity.recovery_codes': RecoveryCodeTable;
  'identity.instructor_applications': InstructorApplicationTable;
  'identity.audit_events': AuditEventTable;
  'identity.data_exports': DataExportTable;
};
