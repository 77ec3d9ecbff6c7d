import { createHash } from 'node:crypto';
import { commerceBench } from './bench.js';
import { systemClock, type Clock } from '../../platform/clock.js';
import { createKeyring, createSealer, type Keyring, parseKeyring } from '../../platform/crypto.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import { parseSettings } from '../../platform/settings.js';
import { CommerceModuleSettings } from './commerce.settings.js';
import {
  createCommerceJobs,
  EXPIRE_ORDERS_JOB,
  type JobHandlers,
  type RefundFlaggedPaymentData,
} from './jobs.js';
import { commerceMigrations } from './migrations/index.js';
import { type CommerceApi, createCommerceApi } from './commerce.api.js';
import { couponsRoutes } from './coupons.routes.js';
import { createCouponsService } from './coupons.service.js';
import { ledgerRoutes } from './ledger.routes.js';
import { createLedgerService } from './ledger.service.js';
import { createNotificationsService } from './notifications.service.js';
import { createPayerResealer } from './payer-reseal.service.js';
import { paymentsRoutes } from './payments.routes.js';
import { payoutsRoutes } from './payouts.routes.js';
import { createPayoutsService } from './payouts.service.js';
import { createPaymentsService } from './payments.service.js';
import { tableSandboxStore } from './sandbox.queries.js';
import { ordersRoutes } from './orders.routes.js';
import {
  commerceEntitlements,
  type CourseSource,
  createOrdersService,
  type Entitlements,
  type OrdersService,
} from './orders.service.js';
import type { PaymentRow } from './payments.queries.js';
import type { Transport } from './providers/provider.js';
import type { CatalogApi } from '../catalog/index.js';
import type { LearningApi } from '../learning/index.js';
import { createReconciliationService } from './reconciliation.service.js';
import { refundsRoutes } from './refunds.routes.js';
import { createRefundsService, type RefundsService } from './refunds.service.js';
import { seedDemoCommerce } from './seed/seed.js';
import { createProviders, type PaymentProviders } from './providers/providers.js';
import type { RouteSet } from './routes.common.js';
import { createCommerceSubscribers } from './subscribers.js';
import type { CommerceTables } from './tables.js';

/** What commerce needs beyond the platform; wired in registry.ts. */
export interface CommerceDeps {
  /**
   * The catalog's API (declared in COMMERCE_REQUIRES): what a course sells for, now, and which
   * courses are the demo catalog's (the demo sales).
   */
  catalog: CourseSource & Pick<CatalogApi, 'demoCourseIds'>;
  /**
   * Which courses a user already owns besides what commerce itself sold (learning's grants: free
   * enrolment, admin grants, and paid orders whose event learning has applied). Commerce's own
   * rule (lines of paid orders not refunded) always applies, so an order paid a moment ago counts
   * before its event reaches learning.
   */
  entitlements?: Entitlements | undefined;
  /** Commerce and provider settings; defaults when not given (sandbox only). */
  settings?: CommerceModuleSettings | undefined;
  /** Providers built elsewhere (tests); default: from `settings`. */
  providers?: PaymentProviders | undefined;
  /** The fetch providers and sandbox deliveries use; tests route it into the app. */
  transport?: Transport | undefined;
  clock?: Clock | undefined;
  /** learning's API (declared in COMMERCE_REQUIRES): how much of a course a learner consumed, for the refund rule. */
  learning?: Pick<LearningApi, 'consumedShare'> | undefined;
}

/**
 * A development key when COMMERCE_DATA_KEYS is unset: fixed, so sealed values survive a restart, and never secret.
 * The keyring itself, not only its sealer: the reseal job filters by the current key's id.
 */
function dataKeyring(spec: string | undefined, warn: (message: string) => void): Keyring {
  if (spec) return parseKeyring(spec);
  warn(
    'COMMERCE_DATA_KEYS is unset: payer identifiers are sealed with a development key anyone can derive; set it in production',
  );
  const key = createHash('sha256').update('lectern commerce development data key').digest();
  return createKeyring([{ id: 'dev', key }]);
}

export function createCommerceModule(
  platform: Platform,
  deps: CommerceDeps,
): LecternModule & { api: CommerceApi } {
  const settings = deps.settings ?? parseSettings(CommerceModuleSettings, {}).values;
  const clock = deps.clock ?? systemClock;
  const db = platform.database.db.withTables<CommerceTables>();
  // absolute URLs handed to providers; PUBLIC_URL when set, else this process on its own port
  const baseUrl = platform.config.publicUrl ?? `http://localhost:${platform.config.port}`;
  const keyring = dataKeyring(settings.COMMERCE_DATA_KEYS, (m) => {
    platform.logger.warn(m);
  });
  const sealer = createSealer(keyring);
  const providers =
    deps.providers ??
    createProviders(
      {
        ...settings,
        // a relative pay page base is served by this app
        SANDBOX_PAY_URL: settings.SANDBOX_PAY_URL.startsWith('/')
          ? `${baseUrl}${settings.SANDBOX_PAY_URL}`
          : settings.SANDBOX_PAY_URL,
      },
      {
        clock,
        sandboxStore: tableSandboxStore(db),
        ...(deps.transport ? { fetch: deps.transport } : {}),
      },
    );
  if (providers.sandboxSecretGenerated) {
    platform.logger.warn(
      'SANDBOX_NOTIFY_SECRET is unset: sandbox notifications are signed with a per-process key (one instance only)',
    );
  }

  const built: { orders?: OrdersService } = {};
  const handlers = (): JobHandlers => {
    const orders = built.orders;
    if (!orders) throw new Error('commerce services are not built yet');
    return {
      expireOverdueOrders: () => orders.expireOverdue(),
      cancelAtProvider: (paymentId) => payments.cancelAtProvider(paymentId),
      sendRefund: (refundId) => refundsService().send(refundId),
      refundFlaggedPayment: async (paymentId) => {
        await refundsService().refundFlaggedPayment(paymentId);
      },
      checkStuckRefunds: async () => {
        await refundsService().checkStuck();
      },
      resealPayers: () => resealer.resealPayers(),
      deliverSandbox: (data) =>
        providers.sandbox.deliver(
          { notifyUrl: data.notifyUrl, headers: data.headers, body: data.body },
          { duplicates: data.duplicates, ...(deps.transport ? { fetch: deps.transport } : {}) },
        ),
    };
  };
  const jobs = createCommerceJobs(handlers);

  const ledger = createLedgerService({ db, platformFeeBps: settings.COMMERCE_PLATFORM_FEE_BPS });
  const refundsHolder: { service?: RefundsService } = {};
  const refundsService = (): RefundsService => {
    if (!refundsHolder.service) throw new Error('commerce refunds are not built yet');
    return refundsHolder.service;
  };
  const notifications = createNotificationsService({
    db,
    clock,
    sealer,
    ledger,
    refunds: refundsService,
    giveBack: (trx, paymentId) =>
      platform.jobs.send<typeof RefundFlaggedPaymentData, CommerceTables>(
        jobs.refundFlaggedPayment,
        { paymentId },
        { transaction: trx },
      ),
  });
  const payments = createPaymentsService({
    db,
    clock,
    providers,
    notifications,
    jobs: platform.jobs,
    deliverJob: jobs.deliverSandbox,
    notifyUrl: (name) => `${baseUrl}/api/v1/payments/notify/${name}`,
    returnUrl: (orderId) => `${baseUrl}/api/v1/orders/${orderId}`,
    transport: deps.transport,
  });
  const closeAtProvider = (open: PaymentRow[]) => payments.closeAtProvider(open);

  const coupons = createCouponsService({ db, clock, catalog: deps.catalog });
  // booked in the paid transition and the refund's (the payments and refunds areas)

  const orders = createOrdersService({
    db,
    clock,
    jobs: platform.jobs,
    logger: platform.logger,
    catalog: deps.catalog,
    entitlements: ownedByEither(commerceEntitlements(db), deps.entitlements),
    ttlMinutes: settings.COMMERCE_ORDER_TTL_MINUTES,
    expiredBy: EXPIRE_ORDERS_JOB,
    closeAtProvider,
    cancelsAtProvider: (name) => providers.get(name)?.cancel !== undefined,
    cancelJob: jobs.cancelAtProvider,
    coupons,
  });

  built.orders = orders;

  const learning = deps.learning;
  refundsHolder.service = createRefundsService({
    db,
    clock,
    logger: platform.logger,
    jobs: platform.jobs,
    sendJob: jobs.sendRefund,
    ledger,
    providers,
    consumedShare: learning ? (userId, courseId) => learning.consumedShare(userId, courseId) : undefined,
    windowDays: settings.COMMERCE_REFUND_WINDOW_DAYS,
    maxConsumedBps: settings.COMMERCE_REFUND_MAX_CONSUMED_BPS,
    stuckMinutes: settings.COMMERCE_REFUND_STUCK_MINUTES,
    metrics: platform.metrics,
    transport: deps.transport,
  });
  const reconciliation = createReconciliationService({ db, providers });
  const resealer = createPayerResealer({ db, keyring, sealer, logger: platform.logger });
  const payouts = createPayoutsService({
    db,
    clock,
    ledger,
    windowDays: settings.COMMERCE_REFUND_WINDOW_DAYS,
  });

  const routeSets: RouteSet[] = [
    ordersRoutes(orders),
    paymentsRoutes(payments, notifications, providers),
    couponsRoutes(coupons),
    ledgerRoutes(ledger),
    refundsRoutes(refundsService(), reconciliation),
    payoutsRoutes(payouts),
  ];

  return {
    name: 'commerce',
    migrations: commerceMigrations,
    routes: (app, kit) => {
      for (const routes of routeSets) routes(app, kit);
    },
    jobs: jobs.all,
    subscribers: createCommerceSubscribers({ coupons, storage: platform.storage, sealer, clock }),
    seed: () =>
      seedDemoCommerce({
        catalog: deps.catalog,
        orders,
        payments,
        notifications,
        sandbox: providers.sandbox,
        refunds: refundsService(),
        coupons,
        clock,
      }),
    bench: commerceBench(),
    api: createCommerceApi(db),
  };
}

/** Owned by either source: what commerce sold and what another module (learning) granted. */
function ownedByEither(own: Entitlements, other: Entitlements | undefined): Entitlements {
  if (!other) return own;
  return {
    async ownedCourseIds(userId, courseIds) {
      const [a, b] = await Promise.all([
        own.ownedCourseIds(userId, courseIds),
        other.ownedCourseIds(userId, courseIds),
      ]);
      return [...new Set([...a, ...b])];
    },
  };
}
