import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { databaseForFile } from '../../../test/helpers/database.js';
import { lockOrder } from './entitlements.queries.js';
import { learningMigrations } from './migrations/index.js';
import type { LearningTables } from './tables.js';

const file = databaseForFile<LearningTables>([{ schema: 'learning', migrations: learningMigrations }]);

/** Whether the promise settles within the time: a lock's waiter must not. */
const settlesWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([
    p.then(() => true),
    new Promise<boolean>((resolve) =>
      setTimeout(() => {
        resolve(false);
      }, ms),
    ),
  ]);

describe("the order's lock (learning's paid and refunded events of one order, one after the other)", () => {
  it('is a lock, not a row: the table of order rows is gone and taking the lock writes nothing', async () => {
    const { rows } = await sql<{
      name: string | null;
    }>`select to_regclass('learning.order_locks')::text as name`.execute(file.db);
    expect(rows[0]?.name).toBeNull();
    await file.db.transaction().execute(async (trx) => {
      await lockOrder(trx, randomUUID());
      const { rows: xid } = await sql<{
        xid: string | null;
      }>`select txid_current_if_assigned()::text as xid`.execute(trx);
      // no write took a transaction id
      expect(xid[0]?.xid).toBeNull();
    });
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'holds a second transaction of the same order until the first ends, and no other order',
    async () => {
      const orderId = randomUUID();
      let second: Promise<void> | undefined;
      let other: Promise<void> | undefined;
      await file.db.transaction().execute(async (trx) => {
        await lockOrder(trx, orderId);
        second = file.db.transaction().execute((t2) => lockOrder(t2, orderId));
        other = file.db.transaction().execute((t3) => lockOrder(t3, randomUUID()));
        expect(await settlesWithin(other, 2_000)).toBe(true);
        expect(await settlesWithin(second, 300)).toBe(false);
      });
      expect(await settlesWithin(second ?? Promise.reject(new Error('not started')), 2_000)).toBe(true);
    },
  );
});
