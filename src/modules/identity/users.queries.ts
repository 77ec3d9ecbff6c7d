import { type Insertable, type Selectable, sql, type Updateable } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import { keyset } from '../../platform/http/pagination.js';
import type { IdentityDb } from './context.js';
import type { UserStatus, UserTable } from './tables.js';

export type UserRow = Selectable<UserTable>;

/**
 * One spelling per address: trimmed, Unicode NFKC, lower-cased. The local part is technically
 * case-sensitive (RFC 5321) but no real mailbox provider treats it so, and two accounts that
 * differ only by case are a support and phishing problem. Provider-specific rewrites (Gmail dots,
 * +tags) are deliberately not applied: they are not true of every domain.
 */
export const normalizeEmail = (email: string): string => email.trim().normalize('NFKC').toLowerCase();

export function insertUser(db: IdentityDb, row: Insertable<UserTable>) {
  return db
    .insertInto('identity.users')
    .values(row)
    .returning(['id', 'display_name'])
    .executeTakeFirstOrThrow();
}

/** Change a user's row; undefined when there is no such user. */
export function updateUser(db: IdentityDb, id: string, set: Updateable<UserTable>) {
  return db.updateTable('identity.users').set(set).where('id', '=', id).returningAll().executeTakeFirst();
}

/** Undefined when the address is taken (registration answers the same either way). */
export function insertUserUnlessTaken(db: IdentityDb, row: Insertable<UserTable>) {
  return db
    .insertInto('identity.users')
    .values(row)
    .onConflict((oc) => oc.column('email').doNothing())
    .returning(['id', 'display_name'])
    .executeTakeFirst();
}

/** Undefined when the address was already verified. */
export function markEmailVerified(db: IdentityDb, id: string, now: Date) {
  return db
    .updateTable('identity.users')
    .set({ email_verified_at: now, updated_at: now })
    .where('id', '=', id)
    .where('email_verified_at', 'is', null)
    .returning(['id', 'email'])
    .executeTakeFirst();
}

export async function anyUserExists(db: IdentityDb): Promise<boolean> {
  return (await db.selectFrom('identity.users').select('id').limit(1).executeTakeFirst()) !== undefined;
}

export function findUserById(db: IdentityDb, id: string) {
  return db.selectFrom('identity.users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The columns a profile shows (`toUserView`): never the password hash. */
const PROFILE_COLUMNS = [
  'id',
  'email',
  'display_name',
  'email_verified_at',
  'roles',
  'status',
  'headline',
  'bio',
  'created_at',
] as const satisfies readonly (keyof UserRow)[];

export type ProfileRow = Pick<UserRow, (typeof PROFILE_COLUMNS)[number]>;

/** Whether the user in `identity.users` has a confirmed second factor (an enrolment pending is none). */
const mfaEnabled = sql<boolean>`exists (select 1 from identity.totp t
    where t.user_id = identity.users.id and t.confirmed_at is not null)`.as('mfa_enabled');

const readProfile = preparedStatement('identity.users.profile', (db: IdentityDb, { id }: { id: string }) =>
  db.selectFrom('identity.users').select(PROFILE_COLUMNS).select(mfaEnabled).where('id', '=', id),
);

/**
 * A user's own profile with whether a confirmed second factor is on: one prepared statement, as
 * every signed-in page asks for it (`GET /me`), where it was the whole row and a second query.
 */
export async function findProfile(db: IdentityDb, id: string) {
  const [row] = await readProfile(db, { id });
  return row;
}

export function findUserByEmail(db: IdentityDb, email: string) {
  return db
    .selectFrom('identity.users')
    .selectAll()
    .where('email', '=', normalizeEmail(email))
    .executeTakeFirst();
}

export async function isMfaEnabled(db: IdentityDb, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('identity.totp')
    .select('user_id')
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is not', null)
    .executeTakeFirst();
  return row !== undefined;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export function listUsers(
  db: IdentityDb,
  filter: {
    q?: string | undefined;
    role?: string | undefined;
    status?: UserStatus | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  let query = db.selectFrom('identity.users').selectAll().select(mfaEnabled);
  if (filter.q) {
    const pattern = likePattern(filter.q.trim());
    query = query.where((eb) => eb.or([eb('email', 'ilike', pattern), eb('display_name', 'ilike', pattern)]));
  }
  if (filter.role) query = query.where(sql<boolean>`${filter.role} = any(roles)`);
  if (filter.status) query = query.where('status', '=', filter.status);
  return keyset(query, {
    columns: ['created_at', 'id'],
    shape: ['date-time', 'uuid'],
    direction: 'desc',
    limit: filter.limit,
    cursor: filter.cursor,
  }).execute();
}
