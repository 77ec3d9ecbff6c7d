import type { IdentityDb } from './context.js';

export function findTotp(db: IdentityDb, userId: string) {
  return db.selectFrom('identity.totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** A new, unconfirmed secret in place of any earlier one. */
export async function replaceTotp(db: IdentityDb, userId: string, sealedSecret: string) {
  await db.deleteFrom('identity.totp').where('user_id', '=', userId).execute();
  await db.insertInto('identity.totp').values({ user_id: userId, secret: sealedSecret }).execute();
}

export function confirmTotp(db: IdentityDb, userId: string, step: number, now: Date) {
  return db
    .updateTable('identity.totp')
    .set({ confirmed_at: now, last_used_step: step })
    .where('user_id', '=', userId)
    .execute();
}

/** Move the last used step forward; undefined when another request used this step or a later one. */
export function advanceTotpStep(db: IdentityDb, userId: string, step: number) {
  return db
    .updateTable('identity.totp')
    .set({ last_used_step: step })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
    .returning('user_id')
    .executeTakeFirst();
}

export async function deleteSecondFactors(db: IdentityDb, userId: string) {
  await db.deleteFrom('identity.totp').where('user_id', '=', userId).execute();
  await db.deleteFrom('identity.recovery_codes').where('user_id', '=', userId).execute();
}

export async function replaceRecoveryCodeHashes(db: IdentityDb, userId: string, hashes: string[]) {
  await db.deleteFrom('identity.recovery_codes').where('user_id', '=', userId).execute();
  await db
    .insertInto('identity.recovery_codes')
    .values(hashes.map((code_hash) => ({ user_id: userId, code_hash })))
    .execute();
}

/** Spend an unused recovery code; undefined when there is none with this hash. */
export function spendRecoveryCode(db: IdentityDb, userId: string, codeHash: string, now: Date) {
  return db
    .updateTable('identity.recovery_codes')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
}

export async function unusedRecoveryCodes(db: IdentityDb, userId: string): Promise<number> {
  const row = await db
    .selectFrom('identity.recovery_codes')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A page of sealed TOTP secrets after `afterUserId`, in user order; only `plain.` ones when asked. */
export function sealedTotpSecretsAfter(
  db: IdentityDb,
  afterUserId: string | undefined,
  limit: number,
  onlyPlain: boolean,
) {
  let q = db.selectFrom('identity.totp').select(['user_id as id', 'secret as sealed']);
  if (afterUserId !== undefined) q = q.where('user_id', '>', afterUserId);
  if (onlyPlain) q = q.where('secret', 'like', 'plain.%');
  return q.orderBy('user_id').limit(limit).execute();
}

/** These users' sealed TOTP secrets; with `lock`, locked, skipping rows another transaction holds. */
export function sealedTotpSecrets(db: IdentityDb, userIds: readonly string[], lock: boolean) {
  if (userIds.length === 0) return Promise.resolve([]);
  const q = db
    .selectFrom('identity.totp')
    .select(['user_id as id', 'secret as sealed'])
    .where('user_id', 'in', userIds);
  return (lock ? q.forUpdate().skipLocked() : q).execute();
}

export async function setSealedTotpSecret(db: IdentityDb, userId: string, sealed: string) {
  await db.updateTable('identity.totp').set({ secret: sealed }).where('user_id', '=', userId).execute();
}
