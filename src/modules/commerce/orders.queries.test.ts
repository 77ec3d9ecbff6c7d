import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { databaseForFile } from '../../../test/helpers/database.js';
import { commerceMigrations } from './migrations/index.js';
import { insertPendingOrder } from './orders.test-support.js';
import type { CommerceTables } from './tables.js';

const file = databaseForFile<CommerceTables>([{ schema: 'commerce', migrations: commerceMigrations }]);

const AT = new Date('2026-12-06T10:00:00.000Z');

/** An order of these courses (9,900 CNY each) by this learner. */
const order = (userId: string, courseIds: string[]) =>
  insertPendingOrder(file.db, { userId, courseIds, at: AT });

async function counts() {
  const [orders, lines, transitions] = await Promise.all([
    file.db
      .selectFrom('commerce.orders')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    file.db
      .selectFrom('commerce.order_lines')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    file.db
      .selectFrom('commerce.order_transitions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { orders: Number(orders.n), lines: Number(lines.n), transitions: Number(transitions.n) };
}

describe('a new order in one statement', () => {
  it('writes the order, its lines in order and its first transition', async () => {
    const userId = randomUUID();
    const courses = [randomUUID(), randomUUID(), randomUUID()];
    const inserted = await order(userId, courses);
    expect(inserted?.order).toMatchObject({ user_id: userId, total: 29700, status: 'pending' });
    expect(inserted?.lines.map((l) => [l.course_id, l.position, l.instructor_ids, l.pending])).toEqual(
      courses.map((c, i) => [c, i, [`instructor-${i}`], true]),
    );
    const transitions = await file.db
      .selectFrom('commerce.order_transitions')
      .select(['from_status', 'to_status', 'reason'])
      .where('order_id', '=', inserted?.order.id ?? '')
      .execute();
    expect(transitions).toEqual([{ from_status: null, to_status: 'pending', reason: 'created' }]);
    // another number of lines is the same statement
    expect((await order(userId, [randomUUID()]))?.lines).toHaveLength(1);
  });

  it('writes nothing, without failing, while a pending order of the learner holds one of its courses', async () => {
    const userId = randomUUID();
    const [held, other] = [randomUUID(), randomUUID()];
    const first = await order(userId, [held]);
    expect(first).toBeDefined();
    const before = await counts();

    // the same course again, and a set that overlaps it: refused by the statement's own check,
    // not by the unique index (a failed statement), and not half-written (no order without lines)
    await expect(order(userId, [held])).resolves.toBeUndefined();
    await expect(order(userId, [other, held])).resolves.toBeUndefined();
    expect(await counts()).toEqual(before);

    // another learner's pending order of the course does not hold it for this one, and the other course is free
    expect(await order(randomUUID(), [held])).toBeDefined();
    expect(await order(userId, [other])).toBeDefined();

    // once the order leaves pending (its lines' mark closed), the course can be ordered again
    await file.db
      .updateTable('commerce.order_lines')
      .set({ pending: false })
      .where('order_id', '=', first?.order.id ?? '')
      .execute();
    expect(await order(userId, [held])).toBeDefined();
  });
});
