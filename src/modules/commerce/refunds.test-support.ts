import { sql } from 'kysely';
import { createTestClock, type TestClock } from '../../platform/clock.js';
import { parseSettings } from '../../platform/settings.js';
import type { TestAppOptions } from '../../../test/helpers/app.js';
import { type Caller, type Kit, startKit } from '../../../test/helpers/kit.js';
import { createCatalogModule, type EntitlementCheck } from '../catalog/index.js';
import { createLearningModule, type LearningModule } from '../learning/index.js';
import { createCommerceModule } from './commerce.module.js';
import { CommerceModuleSettings } from './commerce.settings.js';
import { SANDBOX_SECRET } from './commerce.test-support.js';
import type { Transport } from './providers/provider.js';
import { createProviders, type PaymentProviders } from './providers/providers.js';
import { tableSandboxStore } from './sandbox.queries.js';
import type { CommerceTables } from './tables.js';

export { SANDBOX_SECRET };

/** A notification the sandbox posted while `hold` was on: kept, answered 503, not delivered. */
export interface HeldNotification {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface RefundsTest {
  kit: Kit;
  clock: TestClock;
  instructor: Caller;
  admin: Caller;
  learner: Caller;
  providers: PaymentProviders;
  /** While true the sandbox's notifications are held here instead of reaching the app. */
  hold: { on: boolean; held: HeldNotification[] };
  /** A published course of `as` (default: `instructor`) with four article lessons (the first a free preview). */
  course(amount?: number, as?: Caller): Promise<{ id: string; lessonIds: string[] }>;
  /** Order these courses and pay with the sandbox; events settled, so learning granted them. */
  buy(as: Caller, courseIds: string[]): Promise<string>;
  runJob(name: string, data: unknown): Promise<void>;
  /** Run every queued `commerce.send-refund` job for these refunds, as the worker would. */
  sendRefund(refundId: string): Promise<void>;
  /**
   * A refund of the order asked for, approved and sent to the sandbox, whose notification is held
   * (lost). The approval's send job stays queued: the app runs no jobs.
   */
  refundWithLostAnswer(
    as: Caller,
    orderId: string,
    reason: string,
  ): Promise<{ refund: { id: string; status: string }; held: HeldNotification }>;
  /** The held notification about this refund or payment, whichever else the hold kept. */
  heldFor(about: { refundId: string } | { paymentId: string }): HeldNotification | undefined;
  count(table: string, where?: ReturnType<typeof sql>): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Catalog, learning and commerce on a fresh database, one test clock, and the app itself as the
 * sandbox's transport, so a refund goes request → job → sandbox → notification → order refunded
 * → learning revokes, all in this process. The tests run every job themselves (`runJob`), so the
 * app runs events but no jobs unless asked: a worker running an approval's send job beside the
 * test's own send settles the refund through the sandbox's record, which the test meant lost.
 */
export async function startRefunds(
  env: Record<string, string> = {},
  app?: TestAppOptions,
): Promise<RefundsTest> {
  const clock = createTestClock(new Date());
  const holder: { kit?: Kit } = {};
  const hold: RefundsTest['hold'] = { on: false, held: [] };
  const transport: Transport = async (input, init) => {
    const kit = holder.kit;
    if (!kit) throw new Error('the app is not running');
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    // the fake Alipay and WeChat Pay servers listen on 127.0.0.1: their calls go over the wire
    if (url.hostname === '127.0.0.1') return fetch(input, init);
    const headers = init?.headers as Record<string, string>;
    const body = typeof init?.body === 'string' ? init.body : '';
    if (hold.on) {
      hold.held.push({ url: url.pathname, headers, body });
      return new Response('held', { status: 503 });
    }
    const response = await kit.app.app.inject({
      method: (init?.method ?? 'GET') as 'POST',
      url: url.pathname + url.search,
      headers,
      ...(init?.body !== undefined && init.body !== null ? { payload: body } : {}),
    });
    return new Response(response.body, {
      status: response.statusCode,
      headers: { 'content-type': String(response.headers['content-type'] ?? '') },
    });
  };
  const settings = parseSettings(CommerceModuleSettings, { SANDBOX_NOTIFY_SECRET: SANDBOX_SECRET, ...env });
  if (settings.problems.length > 0) throw new Error(settings.problems.join('; '));
  let learning: LearningModule | undefined;
  let providers: PaymentProviders | undefined;
  const entitlements: EntitlementCheck = {
    canOpen: (userId, courseId) => learning?.canOpen(userId, courseId) ?? Promise.resolve(false),
  };
  const kit = await startKit(
    (platform) => {
      const catalog = createCatalogModule(platform, { entitlements });
      learning = createLearningModule(platform, { catalog: catalog.api, clock, progressIntervalSeconds: 0 });
      // built here rather than by the module, so tests can make the sandbox's records diverge
      providers = createProviders(settings.values, {
        clock,
        fetch: transport,
        sandboxStore: tableSandboxStore(platform.database.db.withTables<CommerceTables>()),
      });
      const commerce = createCommerceModule(platform, {
        catalog: catalog.api,
        entitlements: learning.api,
        learning: learning.api,
        settings: settings.values,
        clock,
        transport,
        providers,
      });
      return [catalog, learning, commerce];
    },
    { jobs: false, ...app },
  );
  holder.kit = kit;
  if (!providers) throw new Error('commerce was not built');
  const [instructor, admin, learner] = await Promise.all([
    kit.caller('instructor'),
    kit.caller('admin'),
    kit.caller('learner'),
  ]);
  const db = kit.app.platform.database.db;

  const { runJob } = kit;
  const sendRefund: RefundsTest['sendRefund'] = (refundId) => runJob('commerce.send-refund', { refundId });
  const heldFor: RefundsTest['heldFor'] = (about) =>
    hold.held.find((n) => {
      const body = JSON.parse(n.body) as Record<string, unknown>;
      return 'refundId' in about ? body.refundId === about.refundId : body.paymentId === about.paymentId;
    });

  return {
    kit,
    clock,
    instructor,
    admin,
    learner,
    providers,
    hold,
    async course(amount = 9900, owner = instructor) {
      const created = await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/courses', {
        as: owner,
        body: { title: 'A course', price: { amount, currency: 'CNY' }, level: 'beginner', language: 'zh-CN' },
      });
      const chapter = await kit.expectStatus<{ id: string }>(
        201,
        'POST',
        `/api/v1/courses/${created.id}/chapters`,
        {
          as: owner,
          body: { title: 'Chapter 1' },
        },
      );
      const lessonIds: string[] = [];
      for (const [i, freePreview] of [true, false, false, false].entries()) {
        const lesson = await kit.expectStatus<{ id: string }>(
          201,
          'POST',
          `/api/v1/chapters/${chapter.id}/lessons`,
          {
            as: owner,
            body: { title: `Lesson ${i + 1}`, kind: 'article', body: 'Body', freePreview },
          },
        );
        lessonIds.push(lesson.id);
      }
      await kit.expectStatus(200, 'POST', `/api/v1/courses/${created.id}/submit`, { as: owner });
      await kit.expectStatus(200, 'POST', `/api/v1/courses/${created.id}/approve`, { as: admin });
      return { id: created.id, lessonIds };
    },
    async buy(as, courseIds) {
      const order = await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
        as,
        body: { courseIds },
      });
      const payment = await kit.expectStatus<{ id: string }>(
        201,
        'POST',
        `/api/v1/orders/${order.id}/payments`,
        {
          as,
          body: { provider: 'sandbox' },
        },
      );
      await kit.expectStatus(200, 'POST', `/api/v1/sandbox/pay/${payment.id}`, { body: { action: 'pay' } });
      await kit.settle();
      return order.id;
    },
    runJob,
    sendRefund,
    heldFor,
    async refundWithLostAnswer(as, orderId, reason) {
      hold.on = true;
      try {
        const refund = await kit.expectStatus<{ id: string; status: string }>(
          201,
          'POST',
          `/api/v1/orders/${orderId}/refunds`,
          { as, body: { reason } },
        );
        // the test's own send: the notification does not arrive, so the job fails (and would retry)
        const failed = await sendRefund(refund.id).then(
          () => undefined,
          (err: unknown) => err,
        );
        if (!(failed instanceof Error) || !/not accepted/.test(failed.message)) {
          throw new Error(`the refund's send was expected to fail unanswered, got ${String(failed)}`);
        }
        const held = heldFor({ refundId: refund.id });
        if (!held) throw new Error('no notification was held');
        return { refund, held };
      } finally {
        hold.on = false;
      }
    },
    async count(table, where) {
      const rows = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(`commerce.${table}`)} where ${
        where ?? sql`true`
      }`.execute(db);
      return rows.rows[0]?.n ?? 0;
    },
    stop: () => kit.stop(),
  };
}
