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

/**
 * A client batch in one statement, so in one round trip and atomically without an explicit
 * transaction: claim the keys of one actor (`on conflict do nothing` waits for a concurrent
 * insert of the same key to commit or roll back, so two copies of a batch in flight never both
 * pass), insert only the events whose key was new, and mark their days dirty. `events` must have
 * distinct keys. Resolves with the number of events stored.
 */
export async function insertClientBatch(
  db: Db,
  actor: string,
  events: RawEvent[],
  receivedAt: Date,
): Promise<number> {
  if (events.length === 0) return 0;
  const col = <T>(pick: (e: RawEvent) => T) => events.map(pick);
  const result = await sql<{ accepted: string }>`
    with fresh as (
      insert into analytics.event_keys (actor, event_key, received_at)
      select ${actor}, k, ${receivedAt} from unnest(${col((e) => e.eventKey)}::text[]) as k
      on conflict do nothing
      returning event_key
    ), stored as (
      insert into analytics.events
        (occurred_at, received_at, kind, source, actor, user_id, client_id, course_id, lesson_id, event_key, props)
      select o, ${receivedAt}, k, s, a, u, c, co, l, t.ek, p::jsonb
      from ${eventRows(events)}
      join fresh on fresh.event_key = t.ek
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
