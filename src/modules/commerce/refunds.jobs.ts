import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

export const SendRefundData = Type.Object({ refundId: Type.String({ format: 'uuid' }) });
export type SendRefundJob = JobDefinition<typeof SendRefundData>;

/**
 * `commerce.send-refund`: sent in the transaction that approves a refund, so an approved refund
 * always reaches the provider. Retried with backoff; the provider treats our refund id
 * (`out_refund_no`) as one refund however often it is sent.
 */
export function createRefundJobs(send: () => (refundId: string) => Promise<void>) {
  const sendRefund = defineJob({
    name: 'commerce.send-refund',
    data: SendRefundData,
    retry: { limit: 8, delaySeconds: 10, backoff: true },
    async handle(data) {
      await send()(data.refundId);
    },
  });
  return { sendRefund, all: [sendRefund] as JobDefinition[] };
}
