import { type Kysely, sql } from 'kysely';
import type { AnalyticsTables, EventSource } from './tables.js';

type Db = Kysely<AnalyticsTables>;

/** A raw event on its way into analytics.events. */
export interface RawEvent {
  occurredAt: string;
  kind: string;
  source: EventSource;
  actor: string;
  userId: string | null;
  clientId: string | null;
  courseId: string | null;
  lessonId: string | null;
  eventKey: string;
  /** The event's own fields, as JSON text. */
  props: string;
}

/** The events as rows `t(o, k, s, a, u, c, co, l, ek, p)`: each column travels as one array parameter. */
function eventRows(events: RawEvent[]) {
  const col = <T>(pick: (e: RawEvent) => T) => events.map(pick);
  return sql`unnest(
    ${col((e) => e.occurredAt)}::timestamptz[], ${col((e) => e.kind)}::text[], ${col((e) => e.source)}::text[],
    ${col((e) => e.actor)}::text[], ${col((e) => e.userId)}::uuid[], ${col((e) => e.clientId)}::text[],
    ${col((e) => e.courseId)}::uuid[], ${col((e) => e.lessonId)}::uuid[], ${col((e) => e.eventKey)}::text[],
    ${col((e) => e.props)}::text[]
  ) as t(o, k, s, a, u, c, co, l, ek, p)`;
}

/** Who sent a client batch: the same for every event of it. */
export interface BatchSender {
  actor: string;
  userId: string | null;
  clientId: string | null;
}

/**
 * A client batch as columns, one entry per event at the same index: only what differs between
 * events (the sender is one value for the whole batch), so a batch in flight is a few arrays of
 * the request's own strings rather than a row object per event.
 */
export interface ClientColumns {
  occurredAt: string[];
  kind: string[];
  courseId: (string | null)[];
  lessonId: (string | null)[];
  eventKey: string[];
  /** The event's own fields, as JSON text. */
  props: string[];
}

/**
 * A client batch in one statement, so in one round trip and atomically without an explicit
 * transaction: claim the keys of one actor (`on conflict do nothing` waits for a concurrent
 * insert of the same key to commit or roll back, so two copies of a batch in flight never both
 * pass), insert only the events whose key was new, and mark their days dirty. The keys must be
 * distinct. Each column travels once, as one array parameter; the sender as single values.
 * Resolves with the number of events stored.
 */
export async function insertClientBatch(
  db: Db,
  sender: BatchSender,
  columns: ClientColumns,
  receivedAt: Date,
): Promise<number> {
  if (columns.eventKey.length === 0) return 0;
  const { actor, userId, clientId } = sender;
  const result = await sql<{ accepted: string }>`
    with batch as (
      select * from unnest(
        ${columns.occurredAt}::timestamptz[], ${columns.kind}::text[], ${columns.courseId}::uuid[],
        ${columns.lessonId}::uuid[], ${columns.eventKey}::text[], ${columns.props}::text[]
      ) as t(o, k, co, l, ek, p)
    ), fresh as (
      insert into analytics.event_keys (actor, event_key, received_at)
      select ${actor}, ek, ${receivedAt} from batch
      on conflict do nothing
      returning event_key
    ), stored as (
      insert into analytics.events
        (occurred_at, received_at, kind, source, actor, user_id, client_id, course_id, lesson_id, event_key, props)
      select o, ${receivedAt}, k, 'client', ${actor}, ${userId}::uuid, ${clientId}::text, co, l, b.ek, p::jsonb
      from batch b
      join fresh on fresh.event_key = b.ek
      returning occurred_at
    ), marked as (
      insert into analytics.dirty_days (day)
      select distinct (occurred_at at time zone 'UTC')::date from stored
      on conflict do nothing
    )
    select count(*) as accepted from stored`.execute(db);
  return Number(result.rows[0]?.accepted ?? 0);
}

/**
 * Any number of events in one statement: each column travels as one array parameter, and the
 * UTC days of the events are marked for the refresh job in the same round trip. The mark is DO
 * NOTHING, so it takes no row lock on a day already marked and concurrent batches do not queue
 * on it; see CONTEXT.md for why no event is missed while the job clears a mark.
 */
export async function insertEvents(db: Db, events: RawEvent[], receivedAt: Date): Promise<void> {
  if (events.length === 0) return;
  await sql`
    with stored as (
      insert into analytics.events
        (occurred_at, received_at, kind, source, actor, user_id, client_id, course_id, lesson_id, event_key, props)
      select o, ${receivedAt}, k, s, a, u, c, co, l, ek, p::jsonb
      from ${eventRows(events)}
      returning occurred_at
    )
    insert into analytics.dirty_days (day)
    select distinct (occurred_at at time zone 'UTC')::date from stored
    on conflict do nothing`.execute(db);
}

/** Forget client event keys received before `before` (clients retry within hours, not weeks). */
export async function purgeKeys(db: Db, before: Date): Promise<number> {
  const result = await db
    .deleteFrom('analytics.event_keys')
    .where('received_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
