import type { Logger } from 'pino';
import { Type } from 'typebox';
import { defineJob, type JobDefinition } from '../../platform/jobs/job.js';

/** Identity's timed jobs. */
export function createIdentityJobs(handlers: {
  purgeDataExports: () => Promise<number>;
  checkDataExportReady: (exportId: string, round: number) => Promise<void>;
  resealSecrets: (logger: Logger) => Promise<unknown>;
}) {
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
  // one round of a copy's readiness check; the next round is a new delayed job (data-exports.service.ts)
  const dataExportReady = defineJob({
    name: 'identity.data-export-ready',
    data: Type.Object({
      exportId: Type.String({ format: 'uuid' }),
      round: Type.Integer({ minimum: 0, maximum: 100 }),
    }),
    retry: { limit: 3, delaySeconds: 30, backoff: true },
    expireInSeconds: 300,
    handle: (data) => handlers.checkDataExportReady(data.exportId, data.round),
  });
  // hourly: after IDENTITY_KEY_SECRET changed, values under a previous secret (or stored plain
  // before one was set) are sealed again, so the previous secrets can be removed (CONTEXT.md)
  const resealSecrets = defineJob({
    name: 'identity.reseal-secrets',
    data: Type.Object({}),
    cron: { expression: '41 * * * *', data: {} },
    retry: { limit: 3, delaySeconds: 300, backoff: true },
    expireInSeconds: 1800,
    async handle(_data, { logger }) {
      await handlers.resealSecrets(logger);
    },
  });
  return {
    dataExportReady,
    all: [purgeDataExports, dataExportReady, resealSecrets] as JobDefinition[],
  };
}
