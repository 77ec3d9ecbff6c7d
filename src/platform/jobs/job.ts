import type { Static, TSchema } from 'typebox';
import type { Logger } from 'pino';

/** What a handler gets besides its data. */
export interface JobContext {
  id: string;
  /** 1 on the first run, 2 on the first retry, … */
  attempt: number;
  /** Child logger carrying the job name and id. */
  logger: Logger;
}

export interface RetryPolicy {
  /** Retries after the first failure; 0 means run once. */
  limit: number;
  /** Seconds before the first retry. */
  delaySeconds: number;
  /** Double the delay (with jitter) on each further retry. */
  backoff: boolean;
}

/**
 * A job a module (or the platform) runs: a queue name, the TypeBox schema of its data, and its
 * handler. A handler that throws is retried by the policy; it never stops the worker.
 */
export interface JobDefinition<S extends TSchema = TSchema> {
  /** Queue name, `<module>.<what it does>` (`commerce.send-refund`). */
  name: string;
  data: S;
  // method syntax on purpose: a list of definitions with different schemas stays assignable
  handle(data: Static<S>, context: JobContext): void | Promise<void>;
  retry?: RetryPolicy;
  /** A run still going after this long counts as failed (and is retried). Default 15 minutes. */
  expireInSeconds?: number;
  /**
   * At most one waiting job per `singletonKey`: a later send with the key of a job not yet started
   * is dropped (send resolves null). Sends without a key then share the empty key.
   */
  uniqueByKey?: boolean;
  /** Run on a schedule: a 5-field cron expression in UTC (one-minute resolution), with this data. */
  cron?: { expression: string; data: Static<S> };
}

/** Identity function that lets TypeScript infer the data type of a definition from its schema. */
export function defineJob<S extends TSchema>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

export const defaultRetry: RetryPolicy = { limit: 5, delaySeconds: 10, backoff: true };
