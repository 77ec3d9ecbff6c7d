import type { Insertable } from 'kysely';
import type { IdentityDb } from './context.js';
import type { OneTimeTokenPurpose, OneTimeTokenTable } from './tables.js';

export function findOneTimeToken(db: IdentityDb, tokenHash: string, purpose: OneTimeTokenPurpose) {
  return db
    .selectFrom('identity.one_time_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('purpose', '=', purpose)
    .executeTakeFirst();
}

export function insertOneTimeToken(db: IdentityDb, row: Insertable<OneTimeTokenTable>) {
  return db.insertInto('identity.one_time_tokens').values(row).execute();
}

/** Spend a token; undefined when another request spent it first. */
export function spendOneTimeToken(db: IdentityDb, id: string, now: Date) {
  return db
    .updateTable('identity.one_time_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .returning(['user_id', 'new_email'])
    .executeTakeFirst();
}

export function spendOutstandingTokens(
  db: IdentityDb,
  userId: string,
  purpose: OneTimeTokenPurpose,
  now: Date,
) {
  return db
    .updateTable('identity.one_time_tokens')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}
