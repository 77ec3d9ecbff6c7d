import { type Kysely, sql } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import { type OutboxRow, outboxInsertWhen } from '../../platform/messaging/outbox.js';
import type { GrantSource, LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

/**
 * First key of the order lock: advisory locks of two int4 keys never meet those of one int8 key
 * (the migration runner's, pg-boss's), and this fixed first key keeps them apart from community's
 * recount lock. The second key is `hashtext` of the order id; two orders sharing a hash only wait
 * for each other.
 */
const ORDER_LOCK_SPACE = 0x6c6f7264; // "lord": learning, order

/**
 * Take the order's lock until the transaction ends: the order's paid and refunded events then
 * apply one after the other even when two instances deliver them at once, so a refund can never
 * miss a grant that is being written. An advisory lock rather than a row's: it writes nothing,
 * where a row per order (the first design) was a write per paid order and a table that only grew.
 */
export async function lockOrder(db: Db, orderId: string): Promise<void> {
  await lockOrderKey(db, { orderId });
}

const lockOrderKey = preparedStatement('learning.order-lock', (db: Db, { orderId }: { orderId: string }) =>
  db.selectNoFrom(
    sql<string>`pg_advisory_xact_lock(${sql.lit(ORDER_LOCK_SPACE)}, hashtext(${orderId}))::text`.as('locked'),
  ),
);

export async function insertTombstone(db: Db, orderId: string, courseId: string, at: Date): Promise<void> {
  await db
    .insertInto('learning.tombstones')
    .values({ order_id: orderId, course_id: courseId, revoked_at: at })
    .onConflict((oc) => oc.columns(['order_id', 'course_id']).doNothing())
    .execute();
}

export interface GrantKey {
  userId: string;
  courseId: string;
  source: GrantSource;
  sourceId: string;
}

/**
 * Add a grant and, with it, the learner's progress row for the course (kept when there is one)
 * and the grant's event in the outbox: true when the grant is new. A second grant from the same
 * source changes nothing, and neither does an order line's grant when the line was refunded first
 * (its tombstone). One statement: the progress row's and the event's inserts are fed by the
 * grant's (nothing is written when no grant was). Run after `lockOrder`, so the tombstone check
 * sees every refund of the order committed before it.
 */
export async function insertGrant(
  db: Db,
  grant: { key: GrantKey; at: Date; reason: string | null; event: OutboxRow },
): Promise<boolean> {
  return (await insertGrantRow(db, grant)).length > 0;
}

const insertGrantRow = preparedStatement(
  'learning.grants.insert-with-progress',
  (
    db: Db,
    { key, at, reason, event }: { key: GrantKey; at: Date; reason: string | null; event: OutboxRow },
  ) =>
    db
      .with('granted', (db) =>
        db
          .insertInto('learning.grants')
          .columns(['user_id', 'course_id', 'source', 'source_id', 'reason', 'granted_at'])
          .expression(
            db
              .selectNoFrom([
                sql<string>`${key.userId}::uuid`.as('user_id'),
                sql<string>`${key.courseId}::uuid`.as('course_id'),
                sql<GrantSource>`${key.source}::text`.as('source'),
                sql<string>`${key.sourceId}::text`.as('source_id'),
                sql<string | null>`${reason}::text`.as('reason'),
                sql<Date>`${at}::timestamptz`.as('granted_at'),
              ])
              // tombstones hold order ids: a free or admin grant ('' as its source id) never matches
              .where((eb) =>
                eb.not(
                  eb.exists(
                    eb
                      .selectFrom('learning.tombstones')
                      .select('order_id')
                      .where('order_id', '=', key.sourceId)
                      .where('course_id', '=', key.courseId),
                  ),
                ),
              ),
          )
          .onConflict((oc) => oc.columns(['user_id', 'course_id', 'source', 'source_id']).doNothing())
          .returning(['user_id', 'course_id', 'granted_at']),
      )
      .with('progress', (db) =>
        db
          .insertInto('learning.course_progress')
          .columns(['user_id', 'course_id', 'last_activity_at'])
          .expression((eb) => eb.selectFrom('granted').select(['user_id', 'course_id', 'granted_at']))
          .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing()),
      )
      .with('event', () => outboxInsertWhen('learning', event, 'granted'))
      .selectFrom('granted')
      .select('user_id'),
);

/** True when there was such a grant. */
export async function deleteGrant(db: Db, key: GrantKey): Promise<boolean> {
  const row = await db
    .deleteFrom('learning.grants')
    .where('user_id', '=', key.userId)
    .where('course_id', '=', key.courseId)
    .where('source', '=', key.source)
    .where('source_id', '=', key.sourceId)
    .returning('user_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Grants of an order whose user the refund names (the order's user). */
export function orderGrants(db: Db, orderId: string, userId: string, courseIds: string[]) {
  return db
    .selectFrom('learning.grants')
    .select(['user_id', 'course_id'])
    .where('source', '=', 'order')
    .where('source_id', '=', orderId)
    .where('user_id', '=', userId)
    .where('course_id', 'in', courseIds)
    .execute();
}

export async function hasGrant(db: Db, userId: string, courseId: string): Promise<boolean> {
  const row = await db
    .selectFrom('learning.grants')
    .select('user_id')
    .where('user_id', '=', userId)
    .where('course_id', '=', courseId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function grantedCourseIds(db: Db, userId: string, courseIds: string[]): Promise<string[]> {
  if (courseIds.length === 0) return [];
  return (await grantedOf(db, { userId, courseIds })).map((r) => r.course_id);
}

const grantedOf = preparedStatement(
  'learning.grants.granted-course-ids',
  (db: Db, a: { userId: string; courseIds: string[] }) =>
    db
      .selectFrom('learning.grants')
      .select('course_id')
      .distinct()
      .where('user_id', '=', a.userId)
      .where(sql<boolean>`course_id = any(${a.courseIds}::uuid[])`),
);
