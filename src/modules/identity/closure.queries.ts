import type { IdentityDb } from './context.js';
import type { UserRow } from './users.queries.js';

/** What stands in for a closed account's address: unique, never deliverable (RFC 2606's `.invalid`). */
const closedEmail = (userId: string) => `${userId}@closed.invalid`;
/** Not an argon2 hash: no password verifies against it. */
const CLOSED_PASSWORD_HASH = '!closed';

/**
 * Replaces the account's personal data and marks it closed, when its status is one of `from`;
 * undefined otherwise (closed meanwhile, or disabled when only an active one may be closed). The
 * row stays: orders, reviews and the audit log refer to the id.
 */
export function closeUser(
  db: IdentityDb,
  id: string,
  now: Date,
  from: readonly ('active' | 'disabled')[],
): Promise<UserRow | undefined> {
  return db
    .updateTable('identity.users')
    .set({
      status: 'closed',
      closed_at: now,
      email: closedEmail(id),
      display_name: '',
      password_hash: CLOSED_PASSWORD_HASH,
      email_verified_at: null,
      headline: null,
      bio: null,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('status', 'in', from)
    .returningAll()
    .executeTakeFirst();
}

/** The rest of a closed account's personal traces in identity: mailed tokens, applications, where its sessions came from. */
export async function eraseAccountTraces(db: IdentityDb, userId: string): Promise<void> {
  await db.deleteFrom('identity.one_time_tokens').where('user_id', '=', userId).execute();
  await db.deleteFrom('identity.instructor_applications').where('user_id', '=', userId).execute();
  await db
    .updateTable('identity.sessions')
    .set({ ip: null, user_agent: null })
    .where('user_id', '=', userId)
    .execute();
}
