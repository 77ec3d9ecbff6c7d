import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock } from '../../platform/clock.js';
import { type Database, inTransaction } from '../../platform/db/database.js';
import { migrateAll } from '../../platform/db/migrations.js';
import { freshDatabase } from '../../../test/helpers/database.js';
import { communityMigrations } from './migrations/index.js';
import { countRatings, findRatings, lockCourseRating, storeRating } from './ratings.queries.js';
import { bayesianAverage, createReviewsService, type ReviewsService } from './reviews.service.js';
import type { CommunityTables } from './tables.js';

const prior = { mean: 3.5, weight: 10 };
let database: Database;
let db: Kysely<CommunityTables>;
let reviews: ReviewsService;

beforeAll(async () => {
  database = await freshDatabase({ template: 'migrated' });
  // as in reviews.queries.test.ts: the migrated template exists on PostgreSQL only
  await migrateAll(database.db, [{ schema: 'community', migrations: communityMigrations }]);
  db = database.db.withTables<CommunityTables>();
  // recount uses the database, the clock and the prior only
  reviews = createReviewsService({
    db,
    clock: createTestClock(),
    access: undefined as never,
    words: undefined as never,
    posting: undefined as never,
    prior,
    changed: () => Promise.resolve(),
  });
});
afterAll(async () => {
  await database.close();
});

async function addReview(courseId: string, rating: number): Promise<void> {
  const at = new Date();
  await db
    .insertInto('community.reviews')
    .values({
      id: randomUUID(),
      course_id: courseId,
      author_id: randomUUID(),
      rating,
      body: `rated ${String(rating)}`,
      verified: true,
      status: 'visible',
      created_at: at,
      updated_at: at,
    })
    .execute();
}

const stored = async (courseId: string) => {
  const [row] = await findRatings(db, [courseId]);
  return row && { count: row.count, sum: row.sum };
};

describe('course rating recount', () => {
  it('recounts the visible reviews, and again after a recount committed (the lock is released)', async () => {
    const courseId = randomUUID();
    await addReview(courseId, 4);
    await addReview(courseId, 5);
    await inTransaction(db, (trx) => reviews.recount(trx, courseId));
    expect(await stored(courseId)).toEqual({ count: 2, sum: 9 });
    await addReview(courseId, 1);
    // twice in one transaction too: the transaction already holding the lock takes it again
    await inTransaction(db, async (trx) => {
      await reviews.recount(trx, courseId);
      await reviews.recount(trx, courseId);
    });
    expect(await stored(courseId)).toEqual({ count: 3, sum: 10 });
  });

  // PGlite is one session: a second transaction queues behind the first in the adapter's pool
  // before it reaches the database, so the two recounts cannot overlap there
  it.skipIf(!process.env.DATABASE_URL)(
    'a recount waits for one of the same course under way, so the last to write counted last',
    async () => {
      const courseId = randomUUID();
      await addReview(courseId, 4);
      await addReview(courseId, 5);
      let recounted = false;
      let recount: Promise<void> | undefined;
      // T1: a recount under way, between its count and its write
      await db.transaction().execute(async (t1) => {
        await lockCourseRating(t1, courseId);
        const early = await countRatings(t1, courseId);
        expect(early.count).toBe(2);
        // a review commits meanwhile, and its event's recount (T2) starts
        await addReview(courseId, 1);
        recount = inTransaction(db, (t2) => reviews.recount(t2, courseId)).then(() => {
          recounted = true;
        });
        // T2 waits on the advisory lock (or, without it, finishes on its own)
        const deadline = Date.now() + 5_000;
        let waiting = false;
        while (!recounted && !waiting && Date.now() < deadline) {
          const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_locks
            where locktype = 'advisory' and not granted and database = (select oid from pg_database where datname = current_database())`.execute(
            db,
          );
          waiting = (rows[0]?.n ?? 0) > 0;
          if (!waiting) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        expect(recounted).toBe(false);
        expect(waiting).toBe(true);
        // T1 writes its count from before the new review
        await storeRating(t1, courseId, early, bayesianAverage(early.count, early.sum, prior), new Date());
      });
      await recount;
      expect(recounted).toBe(true);
      // T2 counted after T1 committed, with the review that came meanwhile, and wrote last
      expect(await stored(courseId)).toEqual({ count: 3, sum: 10 });
    },
  );
});
