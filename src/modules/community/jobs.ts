import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

export const VerifyPurchaseData = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  courseId: Type.String({ format: 'uuid' }),
});
export type VerifyPurchaseJob = JobDefinition<typeof VerifyPurchaseData>;

export const DemoReviewData = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  courseId: Type.String({ format: 'uuid' }),
});
export type DemoReviewJob = JobDefinition<typeof DemoReviewData>;

/**
 * - `community.verify-purchase`: sent by the grants subscriber in the inbox transaction of each
 *   `learning.entitlement.granted`/`revoked`; it asks learning whether the user owns the course
 *   now (outside any transaction) and sets the review's verified mark to that answer. Because it
 *   asks the current truth, events arriving twice or out of order, and grants made before
 *   community first ran, all end in the right mark. Retried while learning is unreachable.
 * - `community.demo-review` (demo data only): sent by the grants subscriber in the inbox
 *   transaction of a `learning.entitlement.granted` for one of identity's demo learners, while
 *   SEED_DEMO is on; outside any transaction it writes that learner's review of the course
 *   through the reviews service, as the learner would (`seed/reviews.ts`). Already reviewed, or
 *   no longer owned (the refunded demo sale): nothing, and done. Retried while learning or the
 *   catalog is unreachable, or the learner's posting window is full.
 * - `community.recount` (daily, 03:41 UTC): recomputes every rating aggregate and every vote
 *   count and score from the rows themselves, repairing drift and applying a changed prior;
 *   idempotent, writes only what differs.
 */
export function createCommunityJobs(handlers: {
  verify: (userId: string, courseId: string) => Promise<void>;
  demoReview: (userId: string, courseId: string) => Promise<void>;
  recount: () => Promise<{ courses: number; reviews: number; comments: number }>;
}) {
  const verifyPurchase: VerifyPurchaseJob = defineJob({
    name: 'community.verify-purchase',
    data: VerifyPurchaseData,
    retry: { limit: 8, delaySeconds: 10, backoff: true },
    uniqueByKey: true,
    handle: (data) => handlers.verify(data.userId, data.courseId),
  });
  const demoReview: DemoReviewJob = defineJob({
    name: 'community.demo-review',
    data: DemoReviewData,
    // the posting window is a minute: a retry after it finds room
    retry: { limit: 5, delaySeconds: 30, backoff: true },
    uniqueByKey: true,
    handle: (data) => handlers.demoReview(data.userId, data.courseId),
  });
  const recount = defineJob({
    name: 'community.recount',
    data: Type.Object({}),
    cron: { expression: '41 3 * * *', data: {} },
    retry: { limit: 3, delaySeconds: 300, backoff: true },
    expireInSeconds: 3600,
    async handle(_data, { logger }) {
      const repaired = await handlers.recount();
      logger.info(repaired, 'community aggregates recounted');
    },
  });
  return { verifyPurchase, demoReview, recount };
}
