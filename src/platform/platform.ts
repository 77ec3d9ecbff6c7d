import path from 'node:path';
import { createCache } from './cache/cache.js';
import type { Config } from './config.js';
import { createDatabase } from './db/database.js';
import { databaseOptions, type EmbeddedServer } from './db/embedded-server.js';
import { createMailer } from './mail/mailer.js';
import { limitHeapGrowth, stopPretenuring } from './heap.js';
import { createEventBus } from './messaging/create-bus.js';
import { createJobQueue } from './jobs/job-queue.js';
import type { Platform } from './module.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createStorage } from './storage/create-storage.js';

export interface RunningPlatform extends Platform {
  close(): Promise<void>;
}

/**
 * Pick and start one implementation per outside component, from the configuration alone.
 * `overrides` lets tests hand in pieces of their own (a fresh database, an isolated bus);
 * `embeddedServer` is the embedded database server when the CLI began starting it already.
 */
export async function createPlatform(
  config: Config,
  overrides: Partial<Platform> = {},
  embeddedServer?: Promise<EmbeddedServer>,
): Promise<RunningPlatform> {
  // before the load comes: V8's default lets garbage grow the heap to several times what is live
  limitHeapGrowth();
  stopPretenuring();
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const database = overrides.database ?? (await createDatabase(databaseOptions(config), embeddedServer));
  const cache =
    overrides.cache ?? createCache({ redisUrl: config.redisUrl, keyPrefix: config.redisKeyPrefix });
  const bus =
    overrides.bus ??
    (await createEventBus({
      natsUrl: config.natsUrl,
      stream: config.natsStream,
      subjectPrefix: config.natsSubjectPrefix,
      retentionDays: config.messagingRetentionDays,
      logger,
    }));
  const mailer =
    overrides.mailer ??
    createMailer({
      smtpUrl: config.smtpUrl,
      from: config.mailFrom,
      outboxDir: path.join(config.dataDir, 'mail-outbox'),
      logger,
    });
  const storage =
    overrides.storage ??
    createStorage({
      localRoot: path.join(config.dataDir, 'files'),
      s3: config.s3Bucket
        ? {
            bucket: config.s3Bucket,
            region: config.s3Region,
            forcePathStyle: config.s3ForcePathStyle,
            ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
            ...(config.s3AccessKeyId ? { accessKeyId: config.s3AccessKeyId } : {}),
            ...(config.s3SecretAccessKey ? { secretAccessKey: config.s3SecretAccessKey } : {}),
            ...(config.s3Prefix ? { prefix: config.s3Prefix } : {}),
          }
        : undefined,
    });
  const metrics = overrides.metrics ?? createMetrics();
  // created here, started by the app once migrations ran (it installs its own schema then)
  const jobs =
    overrides.jobs ??
    createJobQueue({
      db: database.db,
      logger,
      metrics,
      pollingIntervalSeconds: config.jobsPollMs / 1000,
      // leave the process a second of its shutdown budget to close the rest
      shutdownTimeoutMs: Math.max(1000, config.shutdownTimeoutMs - 1000),
    });
  logger.info(
    {
      database: database.describe(),
      cache: cache.describe(),
      bus: bus.describe(),
      mail: mailer.describe(),
      storage: storage.describe(),
      jobs: jobs.describe(),
    },
    'platform components chosen',
  );
  return {
    config,
    logger,
    database,
    cache,
    bus,
    mailer,
    storage,
    metrics,
    jobs,
    async close() {
      // running jobs may still publish or query: stop them before what they use
      await jobs.stop();
      await bus.close();
      await mailer.close();
      await cache.close();
      await database.close();
    },
  };
}
