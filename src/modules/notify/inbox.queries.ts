import { type Kysely, sql } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

export interface NewNotificationRow {
  id: string;
  recipient_id: string;
  kind: string;
  payload: Record<string, unknown>;
  source_event_id: string | null;
  dedupe_key: string;
  created_at: Date;
}

/** Insert many in one statement; a row whose dedupe key exists already is skipped. Returns the new ones. */
export async function insertNotifications(db: Db, rows: NewNotificationRow[]) {
  if (rows.length === 0) return [];
  return db
    .insertInto('notify.notifications')
    .values(rows.map((r) => ({ ...r, payload: JSON.stringify(r.payload) })))
    .onConflict((oc) => oc.columns(['recipient_id', 'kind', 'dedupe_key']).doNothing())
    .returning(['id', 'recipient_id', 'kind', 'payload', 'read_at', 'created_at'])
    .execute();
}

export function listInbox(
  db: Db,
  recipientId: string,
  options: { limit: number; cursor?: string | undefined; unreadOnly: boolean },
) {
  let q = db
    .selectFrom('notify.notifications')
    .select(['id', 'kind', 'payload', 'read_at', 'created_at'])
    .where('recipient_id', '=', recipientId);
  if (options.unreadOnly) q = q.where('read_at', 'is', null);
  return keyset(q, {
    columns: ['created_at', 'id'],
    direction: 'desc',
    limit: options.limit,
    cursor: options.cursor,
    shape: ['date-time', 'uuid'],
  }).execute();
}

export async function countUnread(db: Db, recipientId: string): Promise<number> {
  const row = await db
    .selectFrom('notify.notifications')
    .select(sql<string>`count(*)`.as('n'))
    .where('recipient_id', '=', recipientId)
    .where('read_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Marks one read (keeping the first read time); undefined when the recipient has no such notification. */
export function markRead(db: Db, recipientId: string, id: string, at: Date) {
  return db
    .updateTable('notify.notifications')
    .set({ read_at: sql<Date>`coalesce(read_at, ${at})` })
    .where('id', '=', id)
    .where('recipient_id', '=', recipientId)
    .returning(['id', 'kind', 'payload', 'read_at', 'created_at'])
    .executeTakeFirst();
}

export async function markAllRead(db: Db, recipientId: string, at: Date): Promise<number> {
  const result = await db
    .updateTable('notify.notifications')
    .set({ read_at: at })
    .where('recipient_id', '=', recipientId)
    .where('read_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function deleteNotification(db: Db, recipientId: string, id: string): Promise<boolean> {
  const result = await db
    .deleteFrom('notify.notifications')
    .where('id', '=', id)
    .where('recipient_id', '=', recipientId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
