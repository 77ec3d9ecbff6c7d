import type { Insertable } from 'kysely';
import type { IdentityDb } from './context.js';
import type { SigningKeyTable } from './tables.js';

/** Every key, newest activation first. */
export function listSigningKeys(db: IdentityDb) {
  return db.selectFrom('identity.signing_keys').selectAll().orderBy('activated_at', 'desc').execute();
}

export function insertSigningKey(db: IdentityDb, row: Insertable<SigningKeyTable>) {
  return db.insertInto('identity.signing_keys').values(row).execute();
}

/** Retire the signing key(s) at `at`; they stay published until `expiresAt`. */
export function retireSigningKeys(db: IdentityDb, at: Date, expiresAt: Date) {
  return db
    .updateTable('identity.signing_keys')
    .set({ retired_at: at, expires_at: expiresAt })
    .where('retired_at', 'is', null)
    .execute();
}

export function deleteKeysExpiredBefore(db: IdentityDb, before: Date) {
  return db.deleteFrom('identity.signing_keys').where('expires_at', '<', before).execute();
}
