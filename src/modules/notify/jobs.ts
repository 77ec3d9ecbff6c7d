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
  return { deliver, fanoutStep, all: [deliver, fanoutStep] as JobDefinition[] };
}
