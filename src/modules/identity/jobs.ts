import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

/** Identity's timed jobs. */
export function createIdentityJobs(handlers: { purgeDataExports: () => Promise<number> }): JobDefinition[] {
  // hourly: a copy of someone's data is kept no longer than it can be downloaded
  const purgeDataExports = defineJob({
    name: 'identity.purge-data-exports',
    data: Type.Object({}),
    cron: { expression: '17 * * * *', data: {} },
    retry: { limit: 3, delaySeconds: 300, backoff: true },
    expireInSeconds: 1800,
    async handle() {
      await handlers.purgeDataExports();
    },
  });
  return [purgeDataExports];
}
