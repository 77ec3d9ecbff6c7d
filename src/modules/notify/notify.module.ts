import type { Kysely } from 'kysely';
import { type Clock, systemClock } from '../../platform/clock.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import type { IdentityDirectory } from '../identity/index.js';
import { adminRoutes } from './admin.routes.js';
import { notifyBench } from './bench.js';
import { createBroadcastService } from './broadcast.service.js';
import { createDeliveryService } from './delivery.service.js';
import { createFanoutService } from './fanout.service.js';
import { inboxRoutes } from './inbox.routes.js';
import { createInboxService } from './inbox.service.js';
import { createDigestService, type DigestService } from './digest.service.js';
import { createNotifyJobs } from './jobs.js';
import { createLiveHub, type LiveHub } from './live.js';
import { notifyMigrations } from './migrations/index.js';
import { type NotifyApi, createNotifyApi } from './notify.api.js';
import type { NotifySettings } from './notify.settings.js';
import { preferencesRoutes } from './preferences.routes.js';
import { createPreferencesService } from './preferences.service.js';
import { consoleSms, type SmsSender, tencentSms } from './sms.js';
import { streamRoutes } from './stream.routes.js';
import { createNotifySubscribers } from './subscribers.js';
import type { NotifyTables } from './tables.js';

/** What notify needs beyond the platform; wired in registry.ts. */
export interface NotifyDeps {
  settings?: Partial<NotifySettings> | undefined;
  /** Identity's API (NOTIFY_REQUIRES): an address notify has no copy of, asked for outside any transaction. */
  identity?: IdentityDirectory | undefined;
  clock?: Clock | undefined;
  /** An SMS adapter of the caller's (tests); default from the settings. */
  sms?: SmsSender | undefined;
  /** Redis pub/sub channel of the live stream, shared by every instance. */
  liveChannel?: string | undefined;
  random?: () => number;
}

const DEFAULTS = {
  NOTIFY_MAX_ATTEMPTS: 6,
  NOTIFY_RETRY_BASE_SECONDS: 30,
  NOTIFY_RATE_LIMIT_PER_HOUR: 20,
  NOTIFY_FANOUT_BATCH: 1000,
  NOTIFY_SSE_HEARTBEAT_SECONDS: 25,
  NOTIFY_SMS_PROVIDER: 'console',
  NOTIFY_SMS_ENDPOINT: 'https://sms.tencentcloudapi.com',
  NOTIFY_SMS_REGION: 'ap-guangzhou',
} satisfies Partial<NotifySettings>;

function smsFrom(settings: NotifySettings, platform: Platform): SmsSender {
  if (settings.NOTIFY_SMS_PROVIDER !== 'tencent') return consoleSms(platform.logger);
  const {
    NOTIFY_SMS_SECRET_ID,
    NOTIFY_SMS_SECRET_KEY,
    NOTIFY_SMS_APP_ID,
    NOTIFY_SMS_SIGN_NAME,
    NOTIFY_SMS_TEMPLATE_ID,
  } = settings;
  if (
    !NOTIFY_SMS_SECRET_ID ||
    !NOTIFY_SMS_SECRET_KEY ||
    !NOTIFY_SMS_APP_ID ||
    !NOTIFY_SMS_SIGN_NAME ||
    !NOTIFY_SMS_TEMPLATE_ID
  ) {
    throw new Error(
      'NOTIFY_SMS_PROVIDER=tencent needs NOTIFY_SMS_SECRET_ID, NOTIFY_SMS_SECRET_KEY, NOTIFY_SMS_APP_ID, NOTIFY_SMS_SIGN_NAME and NOTIFY_SMS_TEMPLATE_ID',
    );
  }
  return tencentSms({
    endpoint: settings.NOTIFY_SMS_ENDPOINT,
    region: settings.NOTIFY_SMS_REGION,
    secretId: NOTIFY_SMS_SECRET_ID,
    secretKey: NOTIFY_SMS_SECRET_KEY,
    appId: NOTIFY_SMS_APP_ID,
    signName: NOTIFY_SMS_SIGN_NAME,
    templateId: NOTIFY_SMS_TEMPLATE_ID,
  });
}

export function createNotifyModule(
  platform: Platform,
  deps: NotifyDeps = {},
): LecternModule & { api: NotifyApi; live: LiveHub; digest: DigestService } {
  const settings = { ...DEFAULTS, ...deps.settings };
  const db = platform.database.db.withTables<NotifyTables>();
  const clock = deps.clock ?? systemClock;
  const live = createLiveHub({
    cache: platform.cache,
    logger: platform.logger,
    // under the deployment's Redis key prefix (REDIS_KEY_PREFIX), as the cache's own channels
    // are: two deployments on one Redis must not stream each other's items
    channel: deps.liveChannel ?? `${platform.cache.redis?.options.keyPrefix ?? 'lectern:'}notify:live`,
  });

  // jobs and the services that send them refer to each other: the definitions are built first
  // with handlers that reach the services through these late-bound references
  const handlers = {
    deliver: (id: string) => delivery.run(id),
    fanoutStep: (id: string) => fanout.step(id),
    courseDigest: (day: string | undefined) => digest.send(day),
  };
  const jobs = createNotifyJobs(handlers);
  const delivery = createDeliveryService({
    db,
    clock,
    mailer: platform.mailer,
    sms: deps.sms ?? smsFrom(settings, platform),
    identity: deps.identity,
    queue: (trx, items) =>
      platform.jobs.sendMany(
        jobs.deliver,
        items.map(({ deliveryId, startAfter }) => ({ data: { deliveryId }, startAfter })),
        { transaction: trx as Kysely<object> },
      ),
    policy: {
      maxAttempts: settings.NOTIFY_MAX_ATTEMPTS,
      retryBaseSeconds: settings.NOTIFY_RETRY_BASE_SECONDS,
      ratePerHour: settings.NOTIFY_RATE_LIMIT_PER_HOUR,
    },
    logger: platform.logger,
    ...(deps.random ? { random: deps.random } : {}),
  });
  const fanout = createFanoutService({
    db,
    clock,
    delivery,
    live,
    batchSize: settings.NOTIFY_FANOUT_BATCH,
    logger: platform.logger,
    queue: async (trx, fanoutId) => {
      await platform.jobs.send(jobs.fanoutStep, { fanoutId }, { transaction: trx as Kysely<object> });
    },
  });
  const digest = createDigestService({ db, clock, delivery, batchSize: settings.NOTIFY_FANOUT_BATCH });
  const inbox = createInboxService({ db, clock });
  const preferences = createPreferencesService({ db, clock });
  const broadcasts = createBroadcastService({ db, fanout });

  return {
    name: 'notify',
    migrations: notifyMigrations,
    routes: (app, kit) => {
      inboxRoutes(inbox)(app, kit);
      streamRoutes(inbox, live, { heartbeatSeconds: settings.NOTIFY_SSE_HEARTBEAT_SECONDS })(app, kit);
      preferencesRoutes(preferences)(app, kit);
      adminRoutes(delivery, broadcasts)(app, kit);
    },
    subscribers: createNotifySubscribers({
      delivery,
      fanout,
      live,
      clock,
      logger: platform.logger,
      storage: platform.storage,
    }),
    jobs: jobs.all,
    bench: notifyBench({ db, bus: platform.bus, delivery, fanout, live }),
    close: () => live.close(),
    live,
    digest,
    api: createNotifyApi({ db, delivery, live }),
  };
}
