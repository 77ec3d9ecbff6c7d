import { sql } from 'kysely';
import { createTestClock, type TestClock } from '../../platform/clock.js';
import type { LecternModule } from '../../platform/module.js';
import { parseSettings } from '../../platform/settings.js';
import type { TestAppOptions } from '../../../test/helpers/app.js';
import { type Caller, type Kit, startKit } from '../../../test/helpers/kit.js';
import { createCatalogModule } from '../catalog/index.js';
import { type CommerceDeps, createCommerceModule } from './commerce.module.js';
import { CommerceModuleSettings } from './commerce.settings.js';
import type { Transport } from './providers/provider.js';

export const SANDBOX_SECRET = 'a-sandbox-secret-of-at-least-32-characters';

export interface CommerceTest {
  kit: Kit;
  clock: TestClock;
  instructor: Caller;
  admin: Caller;
  learner: Caller;
  /** A published course priced as asked (default 9900 CNY), of `as` (default: `instructor`). */
  course(price?: { amount: number; currency: string }, as?: Caller): Promise<string>;
  draftCourse(): Promise<string>;
  /** The learner orders a new published course at this price and starts paying it with `provider`. */
  orderAndPayment(options: {
    provider: string;
    price?: { amount: number; currency: string };
  }): Promise<{ courseId: string; orderId: string; paymentId: string }>;
  /** Run one of the module's jobs' handlers now, as the worker would. */
  runJob(name: string, data: unknown): Promise<void>;
  /** Row counts of a commerce table. */
  count(table: string, where?: ReturnType<typeof sql>): Promise<number>;
  stop(): Promise<void>;
}

/**
 * The catalog and commerce on a fresh database, with a test clock and the app itself as the
 * sandbox's transport (a notification posted to the notify URL lands in this app).
 */
export async function startCommerce(
  options: {
    env?: Record<string, string>;
    deps?: Partial<CommerceDeps>;
    app?: TestAppOptions;
    /** More modules beside the catalog and commerce (a stand-in publisher of another module's events). */
    modules?: LecternModule[];
  } = {},
): Promise<CommerceTest> {
  const clock = createTestClock(new Date());
  const holder: { kit?: Kit } = {};
  const transport: Transport = async (input, init) => {
    const kit = holder.kit;
    if (!kit) throw new Error('the app is not running');
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const response = await kit.app.app.inject({
      method: (init?.method ?? 'GET') as 'POST',
      url: url.pathname + url.search,
      headers: init?.headers as Record<string, string>,
      ...(init?.body !== undefined && init.body !== null ? { payload: init.body as string } : {}),
    });
    return new Response(response.body, {
      status: response.statusCode,
      headers: { 'content-type': String(response.headers['content-type'] ?? '') },
    });
  };
  const settings = parseSettings(CommerceModuleSettings, {
    SANDBOX_NOTIFY_SECRET: SANDBOX_SECRET,
    ...options.env,
  });
  if (settings.problems.length > 0) throw new Error(settings.problems.join('; '));
  const k = await startKit((platform) => {
    const catalog = createCatalogModule(platform);
    const commerce = createCommerceModule(platform, {
      catalog: catalog.api,
      settings: settings.values,
      clock,
      transport,
      ...options.deps,
    });
    return [catalog, commerce, ...(options.modules ?? [])];
  }, options.app);
  holder.kit = k;
  const [instructor, admin, learner] = await Promise.all([
    k.caller('instructor'),
    k.caller('admin'),
    k.caller('learner'),
  ]);

  const draftCourse = async (price = { amount: 9900, currency: 'CNY' }, owner = instructor) => {
    const created = await k.expectStatus<{ id: string }>(201, 'POST', '/api/v1/courses', {
      as: owner,
      body: { title: 'A course', price, level: 'beginner', language: 'zh-CN' },
    });
    const chapter = await k.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/courses/${created.id}/chapters`,
      {
        as: owner,
        body: { title: 'Chapter 1' },
      },
    );
    await k.expectStatus(201, 'POST', `/api/v1/chapters/${chapter.id}/lessons`, {
      as: owner,
      body: { title: 'Lesson 1', kind: 'article', body: 'Body', freePreview: true },
    });
    return created.id;
  };

  const course = async (price?: { amount: number; currency: string }, owner = instructor) => {
    const id = await draftCourse(price, owner);
    await k.expectStatus(200, 'POST', `/api/v1/courses/${id}/submit`, { as: owner });
    await k.expectStatus(200, 'POST', `/api/v1/courses/${id}/approve`, { as: admin });
    return id;
  };

  return {
    kit: k,
    clock,
    instructor,
    admin,
    learner,
    draftCourse: () => draftCourse(),
    course,
    async orderAndPayment({ provider, price }) {
      const courseId = await course(price);
      const order = await k.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
        as: learner,
        body: { courseIds: [courseId] },
      });
      const payment = await k.expectStatus<{ id: string }>(
        201,
        'POST',
        `/api/v1/orders/${order.id}/payments`,
        { as: learner, body: { provider } },
      );
      return { courseId, orderId: order.id, paymentId: payment.id };
    },
    runJob: k.runJob,
    async count(table, where) {
      const rows = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.table(`commerce.${table}`)} where ${where ?? sql`true`}`.execute(
        k.app.platform.database.db,
      );
      return rows.rows[0]?.n ?? 0;
    },
    stop: () => k.stop(),
  };
}
