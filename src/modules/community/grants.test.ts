import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../../platform/messaging/test-support.js';
import { type CommunityTest, startCommunity } from './community.test-support.js';

let t: CommunityTest;
beforeAll(async () => {
  t = await startCommunity();
}, 60_000);
afterAll(async () => {
  await t.kit.stop();
});

/** community.verify-purchase jobs queued for this user, whatever their state. */
const verifyJobs = async (userId: string) =>
  (
    await sql<{ n: number }>`select count(*)::int as n from pgboss.job
      where name = 'community.verify-purchase' and data->>'userId' = ${userId}`.execute(
      t.kit.app.platform.database.db,
    )
  ).rows[0]?.n;

/** Grants and revocations community.grants has applied so far. */
const applied = async () =>
  (
    await sql<{
      n: number;
    }>`select count(*)::int as n from community.inbox where consumer = 'community.grants'`.execute(
      t.kit.app.platform.database.db,
    )
  ).rows[0]?.n ?? 0;

const verified = async (reviewId: string) =>
  (await t.kit.expectStatus<{ verified: boolean }>(200, 'GET', `/api/v1/reviews/${reviewId}`)).verified;

it('a first purchase queues no verify-purchase job (no review to mark); a refund does, and so does a purchase after it, which brings the mark back', async () => {
  const course = await t.course();
  const before = await applied();
  const buyer = await t.buyer(course.id);
  await waitFor(async () => (await applied()) === before + 1, 'the grant to reach community');
  expect(await verifyJobs(buyer.id)).toBe(0);

  const review = await t.kit.expectStatus<{ id: string; verified: boolean }>(
    201,
    'POST',
    `/api/v1/courses/${course.id}/reviews`,
    { as: buyer, body: { rating: 5, body: 'Good' } },
  );
  expect(review.verified).toBe(true);
  await t.refund(buyer, course.id);
  await waitFor(async () => !(await verified(review.id)), 'the refund to take the mark away');
  expect(await verifyJobs(buyer.id)).toBe(1);

  await t.buyAgain(buyer, course.id);
  await waitFor(async () => await verified(review.id), 'the new purchase to bring the mark back');
  expect(await verifyJobs(buyer.id)).toBe(2);
});
