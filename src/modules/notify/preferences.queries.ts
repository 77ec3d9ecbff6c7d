import type { Insertable, Kysely } from 'kysely';
import type { NotifyTables, RecipientTable } from './tables.js';

type Db = Kysely<NotifyTables>;

export async function findPreferences(db: Db, userIds: string[], kinds: string[]) {
  if (userIds.length === 0 || kinds.length === 0) return [];
  return db
    .selectFrom('notify.preferences')
    .select(['user_id', 'kind', 'channel', 'enabled'])
    .where('user_id', 'in', userIds)
    .where('kind', 'in', kinds)
    .execute();
}

export function findRecipient(db: Db, userId: string) {
  return db.selectFrom('notify.recipients').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

export async function findRecipients(db: Db, userIds: string[]) {
  if (userIds.length === 0) return [];
  return db.selectFrom('notify.recipients').selectAll().where('user_id', 'in', userIds).execute();
}

export type RecipientFields = Partial<Omit<Insertable<RecipientTable>, 'user_id' | 'updated_at'>>;

/** Create the copy or change the given fields; fields not given keep their value. */
export async function upsertRecipient(
  db: Db,
  userId: string,
  fields: RecipientFields,
  at: Date,
): Promise<void> {
  await db
    .insertInto('notify.recipients')
    .values({ user_id: userId, ...fields, updated_at: at })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ ...fields, updated_at: at }))
    .execute();
}

export async function setPreference(
  db: Db,
  row: { user_id: string; kind: string; channel: string; enabled: boolean },
): Promise<void> {
  await db
    .insertInto('notify.preferences')
    .values(row)
    .onConflict((oc) => oc.columns(['user_id', 'kind', 'channel']).doUpdateSet({ enabled: row.enabled }))
    .execute();
}
