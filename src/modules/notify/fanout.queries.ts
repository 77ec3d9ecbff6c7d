import { type Kysely, sql } from 'kysely';
import type { NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

export type Segment = { type: 'all' } | { type: 'role'; role: string } | { type: 'course'; courseId: string };

export async function insertFanout(
  db: Db,
  row: { id: string; source_event_id: string; kind: string; payload: unknown; segment: Segment },
  at: Date,
): Promise<boolean> {
  const inserted = await db
    .insertInto('notify.fanouts')
    .values({
      id: row.id,
      source_event_id: row.source_event_id,
      kind: row.kind,
      payload: JSON.stringify(row.payload),
      segment: JSON.stringify(row.segment),
      status: 'running',
      created_at: at,
    })
    .onConflict((oc) => oc.column('source_event_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** The fan-out, locked for this transaction: two workers never hand out the same batch. */
export function lockFanout(db: Db, id: string) {
  return db.selectFrom('notify.fanouts').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function findFanout(db: Db, id: string) {
  return db.selectFrom('notify.fanouts').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The next batch of recipients of a segment, in user-id order after `after`. */
export async function segmentBatch(
  db: Db,
  segment: Segment,
  after: string | null,
  limit: number,
): Promise<string[]> {
  if (segment.type === 'course') {
    let q = db.selectFrom('notify.entitlements').select('user_id').where('course_id', '=', segment.courseId);
    if (after !== null) q = q.where('user_id', '>', after);
    const rows = await q.orderBy('user_id').limit(limit).execute();
    return rows.map((r) => r.user_id);
  }
  let q = db.selectFrom('notify.recipients').select('user_id');
  if (segment.type === 'role') q = q.where(sql<boolean>`roles @> array[${segment.role}]::text[]`);
  if (after !== null) q = q.where('user_id', '>', after);
  const rows = await q.orderBy('user_id').limit(limit).execute();
  return rows.map((r) => r.user_id);
}

export async function advanceFanout(
  db: Db,
  id: string,
  fields: { after: string | null; reached: number; done: boolean; at: Date },
): Promise<void> {
  await db
    .updateTable('notify.fanouts')
    .set((eb) => ({
      after_user_id: fields.after,
      reached: eb('reached', '+', fields.reached),
      ...(fields.done ? { status: 'done' as const, finished_at: fields.at } : {}),
    }))
    .where('id', '=', id)
    .execute();
}

/**
 * Apply entitlement changes to notify's copy: `granted` pairs added (kept when there), `revoked`
 * pairs removed; one statement each, whatever their number. A pair is in one list at most.
 */
export async function copyEntitlements(
  db: Db,
  changes: { granted: EntitlementPair[]; revoked: EntitlementPair[] },
): Promise<void> {
  const columns = (pairs: EntitlementPair[]) => [pairs.map((p) => p.userId), pairs.map((p) => p.courseId)];
  if (changes.granted.length > 0) {
    const [users, courses] = columns(changes.granted);
    await sql`insert into notify.entitlements (user_id, course_id)
      select * from unnest(${users}::text[], ${courses}::text[])
      on conflict (course_id, user_id) do nothing`.execute(db);
  }
  if (changes.revoked.length > 0) {
    const [users, courses] = columns(changes.revoked);
    await sql`delete from notify.entitlements
      where (user_id, course_id) in (select * from unnest(${users}::text[], ${courses}::text[]))`.execute(db);
  }
}

export interface EntitlementPair {
  userId: string;
  courseId: string;
}

/** Many entitlement copies in one statement (bench set-up and backfills); existing ones are kept. */
export async function grantEntitlements(db: Db, rows: { userId: string; courseId: string }[]): Promise<void> {
  // well under PostgreSQL's 65,535 parameters per statement
  for (let i = 0; i < rows.length; i += 5000) {
    await db
      .insertInto('notify.entitlements')
      .values(rows.slice(i, i + 5000).map((r) => ({ user_id: r.userId, course_id: r.courseId })))
      .onConflict((oc) => oc.columns(['course_id', 'user_id']).doNothing())
      .execute();
  }
}

/** Notifications of one kind, all recipients (the bench counts what its events created). */
export async function countNotifications(db: Db, kind: string): Promise<number> {
  const row = await db
    .selectFrom('notify.notifications')
    .select(sql<string>`count(*)`.as('n'))
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
