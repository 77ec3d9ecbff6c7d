import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../../platform/db/database.js';
import { enqueue } from '../../../platform/messaging/outbox.js';
import { waitFor } from '../../../platform/messaging/test-support.js';
import {
  type OrderPaid,
  OrderPaidEvent,
  type OrderRefunded,
  OrderRefundedEvent,
} from '../../commerce/index.js';
import { DEMO_LEARNER_IDS, DEMO_LEARNERS } from '../../identity/index.js';
import { announceDemoLearners, type CommunityTest, startCommunity } from '../community.test-support.js';
import { createSensitiveWords } from '../moderation.service.js';
import { DEMO_REVIEWS } from './demo.data.js';

interface ReviewWire {
  id: string;
  author: { id: string; displayName: string | null };
  rating: number;
  body: string;
  verified: boolean;
  status: string;
  votes: { helpful: number };
}
interface RatingWire {
  courseId: string;
  count: number;
  mean: number | null;
  distribution: Record<string, number>;
}

const JOB = 'community.demo-review';

/**
 * The grants of commerce's demo sales, arriving through the bus as they do after `npm start`;
 * jobs are not run by a worker here, so each test decides when the queued job runs.
 */
function demoApp(t: () => CommunityTest) {
  const db = () => t().kit.app.platform.database.db;

  /**
   * Settled until learning has applied commerce's event and community every grant and revocation
   * learning announced: `settle` alone may return while learning's event is still on its way.
   */
  const delivered = (commerceEventId: string) =>
    waitFor(async () => {
      await t().kit.settle();
      const { rows } = await sql<{ learning: boolean; missing: number }>`
        select exists(select 1 from learning.inbox where consumer = 'learning.entitlements'
                        and event_id::text = ${commerceEventId}) as learning,
               (select count(*)::int from learning.outbox o
                 where o.type in ('learning.entitlement.granted', 'learning.entitlement.revoked')
                   and not exists (select 1 from community.inbox i where i.consumer = 'community.grants'
                                     and i.event_id::text = o.id::text)) as missing`.execute(db());
      return rows[0]?.learning === true && rows[0].missing === 0;
    }, 'the grants to reach community');

  /** A paid order of the course by this user (commerce.order.paid → learning's grant), settled. */
  const buy = async (userId: string, courseId: string) => {
    const orderId = randomUUID();
    const data: OrderPaid = {
      orderId,
      userId,
      lines: [{ courseId, title: 'A course', amount: 9900, instructorIds: [t().instructor.id] }],
      total: 9900,
      currency: 'CNY',
      provider: 'sandbox',
      paidAt: t().clock().toISOString(),
    };
    const [event] = await inTransaction(db(), (trx) =>
      enqueue(trx, 'commerce', [OrderPaidEvent.create(orderId, data)]),
    );
    await delivered(event?.id ?? '');
    return orderId;
  };

  /** The order refunded in full (learning revokes the grant), settled. */
  const refund = async (orderId: string, userId: string, courseId: string) => {
    const data: OrderRefunded = {
      orderId,
      userId,
      refundId: randomUUID(),
      amount: 9900,
      currency: 'CNY',
      revokedCourseIds: [courseId],
      orderStatus: 'refunded',
      refundedAt: t().clock().toISOString(),
    };
    const [event] = await inTransaction(db(), (trx) =>
      enqueue(trx, 'commerce', [OrderRefundedEvent.create(orderId, data)]),
    );
    await delivered(event?.id ?? '');
  };

  /** The demo-review jobs queued for the course, whatever their state. */
  const queued = async (courseId: string) =>
    (
      await sql<{ data: { userId: string; courseId: string } }>`
        select data from pgboss.job where name = ${JOB} and data->>'courseId' = ${courseId}`.execute(db())
    ).rows.map((r) => r.data);

  /** Run the queued jobs' handler as a worker would, then let the events it wrote settle. */
  const runQueued = async (courseId: string) => {
    for (const data of await queued(courseId)) await t().kit.runJob(JOB, data);
    await t().kit.settle();
  };

  const reviewsOf = async (courseId: string) =>
    (await t().kit.expectStatus<{ data: ReviewWire[] }>(200, 'GET', `/api/v1/courses/${courseId}/reviews`))
      .data;

  const created = async (courseId: string) =>
    (await t().kit.outbox('community', 'community.review.created')).filter(
      (e) => (e.data as { courseId: string }).courseId === courseId,
    );

  return { buy, refund, queued, runQueued, reviewsOf, created };
}

describe('demo reviews (SEED_DEMO on)', () => {
  let t: CommunityTest;
  const app = demoApp(() => t);

  beforeAll(async () => {
    t = await startCommunity({}, { jobs: false });
    // identity's demo seed announces its learners: the members copy names the reviews' authors
    await announceDemoLearners(t.kit);
  }, 60_000);
  afterAll(async () => {
    await t.kit.stop();
  });

  it("a demo learner's grant queues a job that writes their review as they would: verified, rated, voted, announced", async () => {
    const course = await t.course();
    const [learner, voter] = [DEMO_LEARNER_IDS[3] ?? '', DEMO_LEARNER_IDS[4] ?? ''];
    await app.buy(learner, course.id);
    // queued in the grant's delivery, not yet written: the review comes from the job
    expect(await app.queued(course.id)).toEqual([{ userId: learner, courseId: course.id }]);
    expect(await app.reviewsOf(course.id)).toEqual([]);

    await app.runQueued(course.id);
    // the newest demo course is position 0 of the demo catalog: learner 3's text is the 4th
    const text = DEMO_REVIEWS[3];
    const [review, ...others] = await app.reviewsOf(course.id);
    expect(others).toEqual([]);
    expect(review).toMatchObject({
      author: { id: learner, displayName: DEMO_LEARNERS[3]?.displayName },
      rating: text?.rating,
      body: text?.body,
      verified: true,
      status: 'visible',
      votes: { helpful: 1 },
    });
    const vote = await sql<{ user_id: string; helpful: boolean }>`
      select user_id, helpful from community.review_votes where review_id = ${review?.id ?? ''}`.execute(
      t.kit.app.platform.database.db,
    );
    expect(vote.rows).toEqual([{ user_id: voter, helpful: true }]);

    // the aggregate, recounted from the review's own event
    const rating = await t.kit.expectStatus<RatingWire>(200, 'GET', `/api/v1/courses/${course.id}/rating`);
    expect(rating).toMatchObject({ count: 1, mean: text?.rating });
    expect(rating.distribution[String(text?.rating)]).toBe(1);
    const listed = await t.kit.expectStatus<{ data: RatingWire[] }>(200, 'GET', '/api/v1/course-ratings');
    expect(listed.data.map((r) => r.courseId)).toContain(course.id);
    // announced as any review is (notify tells the instructor from it)
    expect((await app.created(course.id)).map((e) => e.data)).toEqual([
      expect.objectContaining({ authorId: learner, instructorIds: [t.instructor.id], verified: true }),
    ]);
  });

  it('the demo texts: none held by the shipped word list, mostly 4 and 5 stars, one 3', () => {
    const words = createSensitiveWords();
    for (const { body } of DEMO_REVIEWS) expect(words.firstMatch(body), body).toBeUndefined();
    expect(DEMO_REVIEWS.filter((r) => r.rating < 4).map((r) => r.rating)).toEqual([3]);
    expect(DEMO_REVIEWS.every((r) => Number.isInteger(r.rating) && r.rating <= 5)).toBe(true);
  });

  it("anyone else's grant queues nothing, and the job writes nothing for them", async () => {
    const course = await t.course();
    const buyer = randomUUID();
    await app.buy(buyer, course.id);
    expect(await app.queued(course.id)).toEqual([]);
    // even a job sent by hand for a real user: they own the course, and still nothing is written
    await t.kit.runJob(JOB, { userId: buyer, courseId: course.id });
    await t.kit.settle();
    expect(await app.reviewsOf(course.id)).toEqual([]);
    expect(await app.created(course.id)).toEqual([]);
  });

  it('the same grant twice: one job waits, and running it again writes no second review', async () => {
    const course = await t.course();
    const learner = DEMO_LEARNER_IDS[1] ?? '';
    await app.buy(learner, course.id);
    await app.buy(learner, course.id);
    expect(await app.queued(course.id)).toHaveLength(1);

    await app.runQueued(course.id);
    // a redelivered job (or a later grant's) finds the review and succeeds without writing
    await expect(t.kit.runJob(JOB, { userId: learner, courseId: course.id })).resolves.toBeUndefined();
    await t.kit.settle();
    expect((await app.reviewsOf(course.id)).map((r) => r.author.id)).toEqual([learner]);
    expect(await app.created(course.id)).toHaveLength(1);
  });

  it('a grant revoked before its job runs (the refunded demo sale): no review, and the job succeeds', async () => {
    const course = await t.course();
    const learner = DEMO_LEARNER_IDS[2] ?? '';
    const orderId = await app.buy(learner, course.id);
    await app.refund(orderId, learner, course.id);
    expect(await app.queued(course.id)).toHaveLength(1);

    await expect(app.runQueued(course.id)).resolves.toBeUndefined();
    expect(await app.reviewsOf(course.id)).toEqual([]);
    expect(await app.created(course.id)).toEqual([]);
    const rating = await t.kit.expectStatus<RatingWire>(200, 'GET', `/api/v1/courses/${course.id}/rating`);
    expect(rating.count).toBe(0);
  });
});

describe('demo reviews (SEED_DEMO=false)', () => {
  let t: CommunityTest;
  const app = demoApp(() => t);

  beforeAll(async () => {
    t = await startCommunity({}, { jobs: false, env: { SEED_DEMO: 'false' } });
  }, 60_000);
  afterAll(async () => {
    await t.kit.stop();
  });

  it("a demo learner's grant queues nothing, and the platform has no demo-review job to run", async () => {
    const course = await t.course();
    const learner = DEMO_LEARNER_IDS[0];
    await app.buy(learner, course.id);
    expect(await app.queued(course.id)).toEqual([]);

    // not registered: no queue for a worker to poll, so a job queued before the setting changed
    // never runs
    await expect(t.kit.runJob(JOB, { userId: learner, courseId: course.id })).rejects.toThrow(
      `no job ${JOB}`,
    );
    await t.kit.settle();
    expect(await app.reviewsOf(course.id)).toEqual([]);
    expect(await app.created(course.id)).toEqual([]);
  });
});
