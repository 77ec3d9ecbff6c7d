import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { databaseForFile } from '../../../../test/helpers/database.js';
import type { CommerceTables } from '../tables.js';
import { commerceMigrations } from './index.js';
import * as migration from './0007-coupon-redemptions-by-user.js';

const file = databaseForFile<CommerceTables>([{ schema: 'commerce', migrations: commerceMigrations }]);

/** The plan PostgreSQL picks for `query` when it may not read the whole table. */
async function planOf(query: ReturnType<typeof sql>): Promise<string> {
  return file.db.transaction().execute(async (trx) => {
    // an almost empty table is cheapest to read whole: leave the planner only the indexes
    await sql`set local enable_seqscan = off`.execute(trx);
    const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${query}`.execute(trx);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

describe('migration 0007: coupon redemptions by user', () => {
  it("serves the export's page of a user's redemptions from the index led by the user, and the per-user limit from an index", async () => {
    const user = randomUUID();
    // the export's page: one user's redemptions of every status, in (created_at, id) order
    const exportPage = await planOf(sql`
      select r.id from commerce.coupon_redemptions r
      where r.user_id = ${user} and (r.created_at, r.id) > (now(), ${randomUUID()}::uuid)
      order by r.created_at, r.id limit 50`);
    expect(exportPage).toContain('coupon_redemptions_user_idx');
    expect(exportPage).not.toMatch(/Sort/);
    // the per-user limit (activeRedemptionsOf): one coupon's active uses by one user
    const limit = await planOf(sql`
      select count(*) from commerce.coupon_redemptions
      where coupon_id = ${randomUUID()} and user_id = ${user} and status = 'active'`);
    expect(limit).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);

    // IF NOT EXISTS: a second run (a re-applied migration) changes nothing and does not fail
    await migration.up(file.database.db);
    const { rows } = await sql<{ indexdef: string }>`
      select indexdef from pg_indexes
      where schemaname = 'commerce' and indexname = 'coupon_redemptions_user_idx'`.execute(file.db);
    expect(rows.map((r) => r.indexdef)).toEqual([expect.stringContaining('(user_id, created_at, id)')]);
  });
});
