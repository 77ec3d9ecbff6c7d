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
  /** One job per module schema, so that only a worker hosting the module purges its tables. */
  messaging: (schema: string) => `platform.purge-messaging.${schema}`,
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
    // services split by --modules may share one database: a tick of this job lands in a worker
    // that hosts the schema's module
    ...options.schemas.map((schema) =>
      defineJob({
        name: HOUSEKEEPING_JOB_NAMES.messaging(schema),
        data: Type.Object({}),
        cron: { expression: '23 3 * * *', data: {} },
        retry: retryTwice,
        async handle(_data, { logger }) {
          const before = new Date(Date.now() - options.messagingRetentionDays * 86_400_000);
          // two plain statements, no transaction: nothing else waits on a long purge
          const outbox = await deletePublishedOutbox(options.db, schema, before);
          const inbox = await deleteAppliedInbox(options.db, schema, before);
          logger.info({ schema, outbox, inbox }, 'old messaging rows purged');
        },
      }),
    ),
  ];
}
