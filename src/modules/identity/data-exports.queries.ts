import type { Selectable } from 'kysely';
import type { IdentityDb } from './context.js';
import type { DataExportTable } from './tables.js';

export type DataExportRow = Selectable<DataExportTable>;

/** Marks the owner told, once: true for the one caller that marked it. */
export async function markReadyNotified(db: IdentityDb, id: string, now: Date): Promise<boolean> {
  const marked = await db
    .updateTable('identity.data_exports')
    .set({ ready_notified_at: now })
    .where('id', '=', id)
    .where('ready_notified_at', 'is', null)
    .executeTakeFirst();
  return marked.numUpdatedRows > 0n;
}

/**
 * Locks the user's row (so two requests at once are decided one after the other) and returns
 * when the user last asked for an export; undefined if never, null when there is no such active
 * user.
 */
export async function lockAndLastRequest(
  db: IdentityDb,
  userId: string,
): Promise<{ last: Date | undefined } | null> {
  const user = await db
    .selectFrom('identity.users')
    .select('id')
    .where('id', '=', userId)
    .where('status', '=', 'active')
    .forUpdate()
    .executeTakeFirst();
  if (!user) return null;
  const last = await db
    .selectFrom('identity.data_exports')
    .select('requested_at')
    .where('user_id', '=', userId)
    .orderBy('requested_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return { last: last?.requested_at };
}

export async function insertDataExport(db: IdentityDb, row: DataExportRow): Promise<void> {
  await db.insertInto('identity.data_exports').values(row).execute();
}

/** An export while it can be downloaded: the user's own, or by id alone (the readiness check's job). */
export function findLiveExport(
  db: IdentityDb,
  id: string,
  now: Date,
  userId?: string,
): Promise<DataExportRow | undefined> {
  let query = db
    .selectFrom('identity.data_exports')
    .selectAll()
    .where('id', '=', id)
    .where('expires_at', '>', now);
  if (userId !== undefined) query = query.where('user_id', '=', userId);
  return query.executeTakeFirst();
}

/** The user's exports that have not expired, newest first (a few: one a day at most). */
export function listDataExports(db: IdentityDb, userId: string, now: Date): Promise<DataExportRow[]> {
  return db
    .selectFrom('identity.data_exports')
    .selectAll()
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .orderBy('requested_at', 'desc')
    .execute();
}

/** A closed account's exports expire at once; the purge job removes their parts. */
export async function expireUserExports(db: IdentityDb, userId: string, now: Date): Promise<void> {
  await db
    .updateTable('identity.data_exports')
    .set({ expires_at: now })
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .execute();
}

/**
 * Exports expired before `now`, oldest first, a batch at a time: the next batch starts after the
 * last row of the one before, so rows kept for their grace period are not read twice in a run.
 */
export function expiredExports(
  db: IdentityDb,
  now: Date,
  limit: number,
  after?: { expiresAt: Date; id: string },
): Promise<DataExportRow[]> {
  let query = db.selectFrom('identity.data_exports').selectAll().where('expires_at', '<=', now);
  if (after) {
    query = query.where((eb) =>
      eb(eb.refTuple('expires_at', 'id'), '>', eb.tuple(after.expiresAt, after.id)),
    );
  }
  return query.orderBy('expires_at').orderBy('id').limit(limit).execute();
}

export async function deleteDataExports(db: IdentityDb, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.deleteFrom('identity.data_exports').where('id', 'in', ids).execute();
}
