import type { Kysely } from 'kysely';
import type { GrantSource, LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;

/**
 * Lock the order's row until the transaction ends, creating it if need be: the order's paid
 * and refunded events then apply one after the other even when two instances deliver them at
 * once, so a refund can never miss a grant that is being written.
 */
export async function lockOrder(db: Db, orderId: string): Promise<void> {
  await db
    .insertInto('learning.order_locks')
    .values({ order_id: orderId })
    .onConflict((oc) => oc.column('order_id').doUpdateSet({ order_id: orderId }))
    .execute();
}

export async function isTombstoned(db: Db, orderId: string, courseId: string): Promise<boolean> {
  const row = await db
    .selectFrom('learning.tombstones')
    .select('order_id')
    .where('order_id', '=', orderId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return row !== undefined;
}

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

/** True when the grant is new (a second grant from the same source changes nothing). */
export async function insertGrant(db: Db, key: GrantKey, at: Date, reason: string | null): Promise<boolean> {
  const row = await db
    .insertInto('learning.grants')
    .values({
      user_id: key.userId,
      course_id: key.courseId,
      source: key.source,
      source_id: key.sourceId,
      reason,
      granted_at: at,
    })
    .onConflict((oc) => oc.columns(['user_id', 'course_id', 'source', 'source_id']).doNothing())
    .returning('user_id')
    .executeTakeFirst();
  return row !== undefined;
}

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
  const rows = await db
    .selectFrom('learning.grants')
    .select('course_id')
    .distinct()
    .where('user_id', '=', userId)
    .where('course_id', 'in', courseIds)
    .execute();
  return rows.map((r) => r.course_id);
}

/** The learner's row in "my learning", created with the first grant and kept across re-grants. */
export async function ensureCourseProgress(
  db: Db,
  userId: string,
  courseId: string,
  at: Date,
): Promise<void> {
  await db
    .insertInto('learning.course_progress')
    .values({ user_id: userId, course_id: courseId, last_activity_at: at })
    .onConflict((oc) => oc.columns(['user_id', 'course_id']).doNothing())
    .execute();
}
