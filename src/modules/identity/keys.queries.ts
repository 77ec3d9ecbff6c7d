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

/** A page of sealed private keys after `afterKid`, in kid order; only `plain.` ones when asked. */
export function sealedSigningKeysAfter(
  db: IdentityDb,
  afterKid: string | undefined,
  limit: number,
  onlyPlain: boolean,
) {
  let q = db.selectFrom('identity.signing_keys').select(['kid as id', 'private_jwk as sealed']);
  if (afterKid !== undefined) q = q.where('kid', '>', afterKid);
  if (onlyPlain) q = q.where('private_jwk', 'like', 'plain.%');
  return q.orderBy('kid').limit(limit).execute();
}

/** These keys' sealed private keys; with `lock`, locked, skipping rows another transaction holds. */
export function sealedSigningKeys(db: IdentityDb, kids: readonly string[], lock: boolean) {
  if (kids.length === 0) return Promise.resolve([]);
  const q = db
    .selectFrom('identity.signing_keys')
    .select(['kid as id', 'private_jwk as sealed'])
    .where('kid', 'in', kids);
  return (lock ? q.forUpdate().skipLocked() : q).execute();
}

export async function setSealedPrivateKey(db: IdentityDb, kid: string, sealed: string) {
  await db.updateTable('identity.signing_keys').set({ private_jwk: sealed }).where('kid', '=', kid).execute();
}
