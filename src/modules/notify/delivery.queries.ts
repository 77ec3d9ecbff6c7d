import { type Kysely, sql } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { Channel, DeliveryStatus, NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

export async function insertDeliveries(
  db: Db,
  rows: { id: string; notification_id: string; recipient_id: string; channel: Channel }[],
  at: Date,
) {
  if (rows.length === 0) return;
  await db
    .insertInto('notify.deliveries')
    .values(rows.map((r) => ({ ...r, status: 'queued' as const, created_at: at, updated_at: at })))
    .onConflict((oc) => oc.columns(['notification_id', 'channel']).doNothing())
    .execute();
  await logDeliveries(
    db,
    rows.map((r) => ({ delivery_id: r.id, status: 'queued', reason: null })),
    at,
  );
}

export async function logDeliveries(
  db: Db,
  rows: { delivery_id: string; status: string; reason: string | null }[],
  at: Date,
) {
  if (rows.length === 0) return;
  await db
    .insertInto('notify.delivery_log')
    .values(rows.map((r) => ({ ...r, at })))
    .execute();
}

/** The delivery with what sending it needs. */
export function findDelivery(db: Db, id: string) {
  return db
    .selectFrom('notify.deliveries as d')
    .innerJoin('notify.notifications as n', 'n.id', 'd.notification_id')
    .select([
      'd.id',
      'd.recipient_id',
      'd.channel',
      'd.status',
      'd.attempts',
      'd.last_error',
      'd.created_at',
      'd.updated_at',
      'd.sent_at',
      'n.kind',
      'n.payload',
      'n.id as notification_id',
    ])
    .where('d.id', '=', id)
    .executeTakeFirst();
}

/**
 * Take the delivery for one try: only from a sendable state and only if nobody took it since it
 * was read (the attempt count moves), so two jobs for one delivery never both send.
 */
export async function claimDelivery(db: Db, id: string, seenAttempts: number, at: Date): Promise<boolean> {
  const row = await db
    .updateTable('notify.deliveries')
    .set({ attempts: seenAttempts + 1, updated_at: at })
    .where('id', '=', id)
    .where('attempts', '=', seenAttempts)
    .where('status', 'in', ['queued', 'failed'])
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}

export async function setDeliveryStatus(
  db: Db,
  id: string,
  status: DeliveryStatus,
  fields: { reason?: string | null; at: Date; resetAttempts?: boolean },
) {
  await db
    .updateTable('notify.deliveries')
    .set({
      status,
      updated_at: fields.at,
      ...(fields.reason !== undefined ? { last_error: fields.reason } : {}),
      ...(status === 'sent' ? { sent_at: fields.at } : {}),
      ...(fields.resetAttempts ? { attempts: 0 } : {}),
    })
    .where('id', '=', id)
    .execute();
  await logDeliveries(db, [{ delivery_id: id, status, reason: fields.reason ?? null }], fields.at);
}

/** Sent to this recipient on this channel since `since`, and the oldest of those sends. */
export async function sentSince(db: Db, recipientId: string, channel: Channel, since: Date) {
  const row = await db
    .selectFrom('notify.deliveries')
    .select([sql<string>`count(*)`.as('n'), sql<Date | null>`min(sent_at)`.as('oldest')])
    .where('recipient_id', '=', recipientId)
    .where('channel', '=', channel)
    .where('status', '=', 'sent')
    .where('sent_at', '>=', since)
    .executeTakeFirstOrThrow();
  return { count: Number(row.n), oldest: row.oldest === null ? null : new Date(row.oldest) };
}

export function listDeliveries(
  db: Db,
  options: { statuses: DeliveryStatus[]; limit: number; cursor?: string | undefined },
) {
  return keyset(
    db
      .selectFrom('notify.deliveries as d')
      .innerJoin('notify.notifications as n', 'n.id', 'd.notification_id')
      .select([
        'd.id',
        'd.recipient_id',
        'd.channel',
        'd.status',
        'd.attempts',
        'd.last_error',
        'd.updated_at',
        'n.kind',
        'n.id as notification_id',
      ])
      .where('d.status', 'in', options.statuses),
    {
      columns: ['d.updated_at', 'd.id'],
      direction: 'desc',
      limit: options.limit,
      cursor: options.cursor,
      shape: ['date-time', 'uuid'],
    },
  ).execute();
}

export function deliveryLog(db: Db, deliveryIds: string[]) {
  if (deliveryIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('notify.delivery_log')
    .select(['delivery_id', 'status', 'reason', 'at'])
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('seq')
    .execute();
}
