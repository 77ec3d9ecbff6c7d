import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../platform/db/database.js';
import { migrateAll } from '../../platform/db/migrations.js';
import { freshDatabase } from '../../../test/helpers/database.js';
import { communityMigrations } from './migrations/index.js';
import { DEFAULT_PAGE_SIZE, listVisibleReviews } from './reviews.queries.js';
import { encodeCursor } from '../../platform/http/pagination.js';
import { seedBulkReviews } from './seed/bulk.js';
import type { CommunityTables } from './tables.js';

let database: Database;
let db: Kysely<CommunityTables>;
const courseId = randomUUID();
const readerId = randomUUID();

beforeAll(async () => {
  database = await freshDatabase({ template: 'migrated' });
  // the run's migrated template exists on PostgreSQL only; on the embedded default (and on a
  // template already migrated, as a no-op) the community schema is brought up to date here
  await migrateAll(database.db, [{ schema: 'community', migrations: communityMigrations }]);
  db = database.db.withTables<CommunityTables>();
  // the bench's size: with a few hundred rows a limit sent as a parameter costs the generic plan
  // so little more that PostgreSQL takes it anyway, and the check below could not fail
  await seedBulkReviews(db, courseId, 10_000, { mean: 3.5, weight: 10 });
}, 60_000);
afterAll(async () => {
  await database.close();
});

/** The prepared statements of the one connection `conn` runs on. */
const statements = async (conn: Kysely<CommunityTables>) =>
  (
    await sql<{
      name: string;
      generic_plans: number;
    }>`select name, generic_plans from pg_prepared_statements order by name`.execute(conn)
  ).rows;

describe('review pages as named statements', () => {
  it('pages of the default size are named statements that PostgreSQL plans once (a generic plan), in the order of a plain query', async () => {
    const expected = (
      await sql<{ id: string }>`select id from community.reviews
        where course_id = ${courseId} and status = 'visible' order by wilson desc, id desc limit 161`.execute(
        db,
      )
    ).rows.map((r) => r.id);
    await db.connection().execute(async (conn) => {
      const listed: string[] = [];
      let cursor: string | undefined;
      // eight pages on one connection: the first runs, then seven after a cursor (PostgreSQL
      // tries five custom plans before it settles on a generic one)
      for (let page = 0; page < 8; page++) {
        const rows = await listVisibleReviews(conn, courseId, 'best', DEFAULT_PAGE_SIZE, cursor, readerId);
        expect(rows).toHaveLength(DEFAULT_PAGE_SIZE + 1);
        listed.push(...rows.slice(0, DEFAULT_PAGE_SIZE).map((r) => r.id));
        const last = rows[DEFAULT_PAGE_SIZE - 1];
        if (!last) throw new Error('short page');
        cursor = encodeCursor([last.after, last.id], 'best');
      }
      expect(listed).toEqual(expected.slice(0, 8 * DEFAULT_PAGE_SIZE));
      expect(await statements(conn)).toEqual([
        { name: 'community.reviews.best.after.reader', generic_plans: expect.any(Number) },
        { name: 'community.reviews.best.first.reader', generic_plans: 0 },
      ]);
      const [after] = await statements(conn);
      expect(after?.generic_plans).toBeGreaterThan(0);

      // another page size runs unnamed: a client cannot make a connection keep a plan per size
      const ten = await listVisibleReviews(conn, courseId, 'best', 10, undefined, undefined);
      expect(ten.map((r) => r.id)).toEqual(expected.slice(0, 11));
      expect((await statements(conn)).map((s) => s.name)).toEqual([
        'community.reviews.best.after.reader',
        'community.reviews.best.first.reader',
      ]);
    });
  });

  it('refuses a page size the SQL text cannot take', async () => {
    for (const limit of [0, 101, 1.5, Number.NaN]) {
      await expect(listVisibleReviews(db, courseId, 'best', limit, undefined, undefined)).rejects.toThrow(
        /bad page size/,
      );
    }
  });
});
