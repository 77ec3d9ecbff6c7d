import type { Kysely } from 'kysely';
import { Type } from 'typebox';
import { deleteAppliedInbox, deletePublishedOutbox } from './housekeeping.queries.js';
import { defineJob, type JobDefinition } from './job.js';

export interface HousekeepingOptions {
  db: Kysely<object>;
  /** Schemas that hold an outbox and an inbox (every module's). */
  schemas: string[];
  /** Published outbox rows and inbox rows older than this are deleted. */
  messagingRetentionDays: number;
  /** Deletes expired idempotency keys (the platform's Idempotency.purgeExpired). */
  purgeIdempotencyKeys: () => Promise<number>;
}

export const HOUSEKEEPING_JOB_NAMES = {
  idempotencyKeys: 'platform.purge-idempotency-keys',
  messaging: 'platform.purge-messaging',
} as const;

/** The platform's own scheduled clean-ups; they run in whichever worker the cron tick lands on. */
export function housekeepingJobs(options: HousekeepingOptions): JobDefinition[] {
  const retryTwice = { limit: 2, delaySeconds: 60, backoff: true };
  return [
    defineJob({
      name: HOUSEKEEPING_JOB_NAMES.idempotencyKeys,
      data: Type.Object({}),
      cron: { expression: '7 * * * *', data: {} },
      retry: retryTwice,
      async handle(_data, { logger }) {
        const deleted = await options.purgeIdempotencyKeys();
        logger.info({ deleted }, 'expired idempotency keys purged');
      },
    }),
    defineJob({
      name: HOUSEKEEPING_JOB_NAMES.messaging,
      data: Type.Object({}),
      cron: { expression: '23 3 * * *', data: {} },
      retry: retryTwice,
      async handle(_data, { logger }) {
        const before = new Date(Date.now() - options.messagingRetentionDays * 86_400_000);
        // one schema at a time, each delete its own statement: no long transaction over all modules
        for (const schema of options.schemas) {
          const outbox = await deletePublishedOutbox(options.db, schema, before);
          const inbox = await deleteAppliedInbox(options.db, schema, before);
          logger.info({ schema, outbox, inbox }, 'old messaging rows purged');
        }
      },
    }),
  ];
}
