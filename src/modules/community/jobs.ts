import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

export const VerifyPurchaseData = Type.Object({
  userId: Type.String({ format: 'uuid' }),
  courseId: Type.String({ format: 'uuid' }),
});
export type VerifyPurchaseJob = JobDefinition<typeof VerifyPurchaseData>;

/**
 * - `community.verify-purchase`: sent by the grants subscriber in the inbox transaction of each
 *   `learning.entitlement.granted`/`revoked`; it asks learning whether the user owns the course
 *   now (outside any transaction) and sets the review's verified mark to that answer. Because it
 *   asks the current truth, events arriving twice or out of order, and grants made before
 *   community first ran, all end in the right mark. Retried while learning is unreachable.
 * - `community.recount` (daily, 03:41 UTC): recomputes every rating aggregate and every vote
 *   count and score from the rows themselves, repairing drift and applying a changed prior;
 *   idempotent, writes only what differs.
 */
export function createCommunityJobs(handlers: {
  verify: (userId: string, courseId: string) => Promise<void>;
  recount: () => Promise<{ courses: number; reviews: number; comments: number }>;
}) {
  const verifyPurchase: VerifyPurchaseJob = defineJob({
    name: 'community.verify-purchase',
    data: VerifyPurchaseData,
    retry: { limit: 8, delaySeconds: 10, backoff: true },
    uniqueByKey: true,
    handle: (data) => handlers.verify(data.userId, data.courseId),
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
  return { verifyPurchase, recount };
}
