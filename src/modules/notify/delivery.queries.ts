import { type Kysely, sql, type Updateable } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
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

/** The delivery with its notification's kind and payload. */
export async function findDelivery(db: Db, id: string) {
  const [row] = await deliveryById(db, { id });
  return row;
}

/** A delivery (`d`) with its notification (`n`), the columns both reads below take first. */
const withNotification = (db: Db) =>
  db
    .selectFrom('notify.deliveries as d')
    .innerJoin('notify.notifications as n', 'n.id', 'd.notification_id')
    .select(['d.id', 'd.recipient_id', 'd.channel', 'd.status', 'd.attempts', 'n.kind', 'n.payload']);

// each delivery runs these once or twice: built once, run as named statements (prepared.ts)
const deliveryById = preparedStatement('notify.deliveries.find', (db: Db, { id }: { id: string }) =>
  withNotification(db)
    .select(['d.last_error', 'd.created_at', 'd.updated_at', 'd.sent_at', 'n.id as notification_id'])
    .where('d.id', '=', id),
);

/**
 * The delivery with what sending it needs and its recipient's address and locale (notify's copy,
 * null when there is none): what a try reads, in one statement.
 */
export async function findDeliveryToSend(db: Db, id: string) {
  const [row] = await deliveryToSend(db, { id });
  return row;
}

const deliveryToSend = preparedStatement('notify.deliveries.find-to-send', (db: Db, { id }: { id: string }) =>
  withNotification(db)
    .leftJoin('notify.recipients as r', 'r.user_id', 'd.recipient_id')
    .select(['r.email', 'r.phone', 'r.locale'])
    .where('d.id', '=', id),
);

/**
 * Take the delivery for one try: only from a sendable state and only if nobody took it since it
 * was read (the attempt count moves), so two jobs for one delivery never both send.
 */
export async function claimDelivery(db: Db, id: string, seenAttempts: number, at: Date): Promise<boolean> {
  return (await claimRow(db, { id, seenAttempts, at })).length > 0;
}

const claimRow = preparedStatement(
  'notify.deliveries.claim',
  (db: Db, a: { id: string; seenAttempts: number; at: Date }) =>
    db
      .updateTable('notify.deliveries')
      .set({ attempts: sql<number>`attempts + 1`, updated_at: a.at })
      .where('id', '=', a.id)
      .where('attempts', '=', a.seenAttempts)
      .where('status', 'in', ['queued', 'failed'])
      .returning('id'),
);

/**
 * Set a delivery's status and log the change: one statement, the log row taking its status and
 * time from the updated row.
 */
export async function setDeliveryStatus(
  db: Db,
  id: string,
  status: DeliveryStatus,
  fields: { reason?: string | null; at: Date; resetAttempts?: boolean },
) {
  await setStatusRow(db, {
    id,
    set: {
      status,
      updated_at: fields.at,
      ...(fields.reason !== undefined ? { last_error: fields.reason } : {}),
      ...(status === 'sent' ? { sent_at: fields.at } : {}),
      ...(fields.resetAttempts ? { attempts: 0 } : {}),
    },
    reason: fields.reason ?? null,
  });
}

const setStatusRow = preparedStatement(
  'notify.deliveries.set-status',
  (
    db: Db,
    a: {
      id: string;
      set: Updateable<NotifyTables['notify.deliveries']>;
      reason: string | null;
    },
  ) =>
    db
      .with('changed', (db) =>
        db
          .updateTable('notify.deliveries')
          .set(a.set)
          .where('id', '=', a.id)
          .returning(['id', 'status', 'updated_at']),
      )
      .insertInto('notify.delivery_log')
      .columns(['delivery_id', 'status', 'reason', 'at'])
      .expression((eb) =>
        eb
          .selectFrom('changed')
          .select(['id', 'status', sql<string | null>`${a.reason}::text`.as('reason'), 'updated_at']),
      ),
);

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
