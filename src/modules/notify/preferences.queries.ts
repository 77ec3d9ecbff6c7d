import type { Insertable, Kysely } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
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

export async function findRecipient(db: Db, userId: string) {
  const [row] = await recipientById(db, { userId });
  return row;
}

const RECIPIENT_COLUMNS = [
  'user_id',
  'email',
  'display_name',
  'phone',
  'locale',
  'roles',
  'quiet_start',
  'quiet_end',
  'time_zone',
  'updated_at',
] as const satisfies readonly (keyof RecipientTable)[];

// read for every delivery and every inbox request: built once, run as a named statement
const recipientById = preparedStatement('notify.recipients.find', (db: Db, { userId }: { userId: string }) =>
  db.selectFrom('notify.recipients').select(RECIPIENT_COLUMNS).where('user_id', '=', userId),
);

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

/**
 * A closed account (`identity.user.closed`): its copy (address, name, phone), its choices, its
 * inbox with the deliveries and their log, and its entitlements copy (so no fan-out reaches it).
 */
export async function forgetRecipient(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('notify.notifications').where('recipient_id', '=', userId).execute();
  await db.deleteFrom('notify.preferences').where('user_id', '=', userId).execute();
  await db.deleteFrom('notify.entitlements').where('user_id', '=', userId).execute();
  await db.deleteFrom('notify.recipients').where('user_id', '=', userId).execute();
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
