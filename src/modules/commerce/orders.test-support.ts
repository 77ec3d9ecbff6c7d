import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { insertOrderWithLines } from './orders.queries.js';
import type { CommerceTables } from './tables.js';

/**
 * A pending order of these courses (9,900 CNY each, line n taught by `instructor-n`) by this
 * learner, written by the order's statement as the order service writes it, expiring an hour after
 * `at`: undefined when a pending order of the learner holds one of the courses.
 */
export function insertPendingOrder(
  db: Kysely<CommerceTables>,
  { userId, courseIds, at }: { userId: string; courseIds: string[]; at: Date },
) {
  const id = randomUUID();
  const total = 9900 * courseIds.length;
  return insertOrderWithLines(
    db,
    {
      id,
      user_id: userId,
      currency: 'CNY',
      subtotal: total,
      total,
      coupon_code: null,
      course_set: [...courseIds].sort().join(','),
      expires_at: new Date(at.getTime() + 3_600_000),
      created_at: at,
      updated_at: at,
    },
    courseIds.map((courseId, position) => ({
      order_id: id,
      course_id: courseId,
      user_id: userId,
      pending: true,
      title: `Course ${position + 1}`,
      instructor_ids: [`instructor-${position}`],
      list_price: 9900,
      amount: 9900,
      position,
    })),
    { from_status: null, to_status: 'pending', actor_kind: 'user', actor_id: userId, reason: 'created', at },
  );
}
