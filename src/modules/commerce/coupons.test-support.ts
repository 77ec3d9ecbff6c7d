import type { Kysely } from 'kysely';
import { createTestClock, type TestClock } from '../../platform/clock.js';
import { createSealer, generateKey } from '../../platform/crypto.js';
import type { LecternModule } from '../../platform/module.js';
import { type Caller, type Kit, startKit } from '../../../test/helpers/kit.js';
import { type CatalogApi, createCatalogModule } from '../catalog/index.js';
import { couponsRoutes } from './coupons.routes.js';
import { createCouponsService, type CouponsService } from './coupons.service.js';
import { ledgerRoutes } from './ledger.routes.js';
import { createLedgerService, type LedgerService } from './ledger.service.js';
import { commerceMigrations } from './migrations/index.js';
import { createCommerceSubscribers } from './subscribers.js';
import type { CommerceTables } from './tables.js';

export interface CommerceTest {
  kit: Kit;
  clock: TestClock;
  db: Kysely<CommerceTables>;
  catalog: CatalogApi;
  coupons: CouponsService;
  ledger: LedgerService;
  admin: Caller;
  instructor: Caller;
  learner: Caller;
  /** A published course of `as` (default: the test's instructor) in `categoryId`, at `price`. */
  publishedCourse(input?: {
    price?: { amount: number; currency: string };
    categoryId?: string;
    as?: Caller;
  }): Promise<string>;
  category(slug: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startCommerce(env: Record<string, string> = {}): Promise<CommerceTest> {
  const clock = createTestClock(new Date('2026-03-01T08:00:00.000Z'));
  let parts: { catalog: CatalogApi; coupons: CouponsService; ledger: LedgerService } | undefined;
  const kit = await startKit(
    (platform) => {
      const catalog = createCatalogModule(platform, {});
      const db = platform.database.db.withTables<CommerceTables>();
      const coupons = createCouponsService({ db, clock, catalog: catalog.api });
      const ledger = createLedgerService({
        db,
        platformFeeBps: Number(env.COMMERCE_PLATFORM_FEE_BPS ?? 3000),
      });
      parts = { catalog: catalog.api, coupons, ledger };
      const commerce: LecternModule = {
        name: 'commerce',
        migrations: commerceMigrations,
        routes: (app, http) => {
          couponsRoutes(coupons)(app, http);
          ledgerRoutes(ledger)(app, http);
        },
        subscribers: createCommerceSubscribers({
          coupons,
          storage: platform.storage,
          sealer: createSealer(`test:${generateKey()}`),
          clock,
        }),
      };
      return [catalog, commerce];
    },
    { env },
  );
  if (!parts) throw new Error('commerce was not built');
  const [admin, instructor, learner] = await Promise.all([
    kit.caller('admin'),
    kit.caller('instructor'),
    kit.caller('learner'),
  ]);

  const publishedCourse: CommerceTest['publishedCourse'] = async (input = {}) => {
    const as = input.as ?? instructor;
    const course = await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/courses', {
      as,
      body: {
        title: 'A course',
        price: input.price ?? { amount: 9900, currency: 'CNY' },
        level: 'beginner',
        language: 'zh-CN',
        ...(input.categoryId ? { categoryId: input.categoryId } : {}),
      },
    });
    const chapter = await kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/courses/${course.id}/chapters`,
      {
        as,
        body: { title: 'Chapter 1' },
      },
    );
    await kit.expectStatus(201, 'POST', `/api/v1/chapters/${chapter.id}/lessons`, {
      as,
      body: { title: 'Lesson 1', kind: 'article', body: 'Body', freePreview: true },
    });
    await kit.expectStatus(200, 'POST', `/api/v1/courses/${course.id}/submit`, { as });
    await kit.expectStatus(200, 'POST', `/api/v1/courses/${course.id}/approve`, { as: admin });
    return course.id;
  };

  const category = async (slug: string) =>
    (
      await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/categories', {
        as: admin,
        body: { slug, name: slug },
      })
    ).id;

  return {
    kit,
    clock,
    db: kit.app.platform.database.db.withTables<CommerceTables>(),
    ...parts,
    admin,
    instructor,
    learner,
    publishedCourse,
    category,
    stop: () => kit.stop(),
  };
}
