import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

/**
 * Notify's jobs. A delivery's own retries (backoff with jitter, dead after N tries) are new
 * delayed jobs sent by the delivery service, so the log and the dead-letter state stay in notify's
 * tables; the queue's retry policy only covers a handler that crashed (database gone).
 */
export function createNotifyJobs(handlers: {
  deliver: (deliveryId: string) => Promise<void>;
  fanoutStep: (fanoutId: string) => Promise<void>;
  courseDigest: (day: string | undefined) => Promise<number>;
}) {
  const deliver = defineJob({
    name: 'notify.deliver',
    data: Type.Object({ deliveryId: Type.String({ format: 'uuid' }) }),
    retry: { limit: 5, delaySeconds: 15, backoff: true },
    expireInSeconds: 120,
    handle: (data) => handlers.deliver(data.deliveryId),
  });
  const fanoutStep = defineJob({
    name: 'notify.fanout-step',
    data: Type.Object({ fanoutId: Type.String({ format: 'uuid' }) }),
    retry: { limit: 10, delaySeconds: 5, backoff: true },
    expireInSeconds: 300,
    handle: (data) => handlers.fanoutStep(data.fanoutId),
  });
  // hourly at :05: the zones where it is now the digest's local morning get their previous local
  // day; `day` lets an operator rerun a day for every zone, which sends nothing twice
  const courseDigest = defineJob({
    name: 'notify.course-digest',
    data: Type.Object({ day: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })) }),
    cron: { expression: '5 * * * *', data: {} },
    retry: { limit: 3, delaySeconds: 300, backoff: true },
    expireInSeconds: 3600,
    async handle(data, { logger }) {
      const created = await handlers.courseDigest(data.day);
      logger.info({ day: data.day, created }, 'course digests created');
    },
  });
  return {
    deliver,
    fanoutStep,
    courseDigest,
    all: [deliver, fanoutStep, courseDigest] as JobDefinition[],
  };
}
