import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { createTestClock, type TestClock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue, outboxMigration } from '../../platform/messaging/outbox.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import type { LecternModule } from '../../platform/module.js';
import type { TestAppOptions } from '../../../test/helpers/app.js';
import { type Caller, type Kit, startKit } from '../../../test/helpers/kit.js';
import { createCatalogModule, type EntitlementCheck } from '../catalog/index.js';
import { type OrderPaid, OrderPaidEvent, type OrderRefunded, OrderRefundedEvent } from '../commerce/index.js';
import { DEMO_LEARNERS, UserRegisteredEvent } from '../identity/index.js';
import { createLearningModule, type LearningModule } from '../learning/index.js';
import { type CommunityDeps, type CommunityModule, createCommunityModule } from './index.js';

/** Outboxes standing in for commerce and identity: tests write their events as they would. */
const outboxOnly = (name: string): LecternModule => ({
  name,
  migrations: { '0000-messaging': outboxMigration(name) },
});

export interface CommunityTest {
  kit: Kit;
  community: CommunityModule;
  clock: TestClock;
  instructor: Caller;
  admin: Caller;
  /** A published course (9900 CNY) with a free preview lesson and a paid lesson. */
  course(): Promise<{ id: string; previewLessonId: string; paidLessonId: string }>;
  /** A learner who bought the course (commerce.order.paid → learning grant), settled. */
  buyer(courseId: string, ...roles: string[]): Promise<Caller & { orderId: string }>;
  /** The same learner buys the course again (a new order), settled, and the verified mark's job done. */
  buyAgain(caller: Caller, courseId: string): Promise<Caller & { orderId: string }>;
  /** Several buyers, settled once. */
  buyers(courseId: string, count: number): Promise<(Caller & { orderId: string })[]>;
  /** commerce.order.refunded for that order, settled, and the verified mark's job done. */
  refund(buyer: Caller & { orderId: string }, courseId: string): Promise<void>;
  /** identity.user.registered, settled: the member copy mentions resolve against. */
  register(caller: Caller, displayName: string): Promise<void>;
  /** Send a job through the queue, as its cron tick or a subscriber would, and wait until it completed. */
  runJob(name: string, data?: object): Promise<void>;
  /** Wait until no job of this name is waiting or running (the subscribers' jobs after `settle`). */
  jobsDone(name: string): Promise<void>;
}

/**
 * Identity and commerce as outboxes, the catalog, learning and community on a fresh database.
 * `app`: more environment (SEED_DEMO=false) and `jobs: false` for a test that runs each job by hand.
 */
export async function startCommunity(
  options: Partial<Omit<CommunityDeps, 'catalog' | 'learning'>> = {},
  app: Pick<TestAppOptions, 'env' | 'jobs'> = {},
): Promise<CommunityTest> {
  const clock = createTestClock(new Date('2026-03-01T08:00:00.000Z'));
  let learning: LearningModule | undefined;
  let community: CommunityModule | undefined;
  const entitlements: EntitlementCheck = {
    canOpen: (userId, courseId) => learning?.canOpen(userId, courseId) ?? Promise.resolve(false),
  };
  // the test's instructor stands in for the demo catalog's, so the demo seed finds its courses
  let demoInstructors: { id: string; displayName: string }[] = [];
  const kit = await startKit(
    (platform) => {
      const catalog = createCatalogModule(platform, {
        entitlements,
        demoInstructors: () => Promise.resolve(demoInstructors),
      });
      learning = createLearningModule(platform, { catalog: catalog.api, clock });
      community = createCommunityModule(platform, {
        catalog: catalog.api,
        learning: learning.api,
        clock,
        ...options,
        settings: { COMMUNITY_POSTS_PER_WINDOW: 1000, ...options.settings },
      });
      return [outboxOnly('identity'), catalog, outboxOnly('commerce'), learning, community];
      // a test file sends hundreds of requests from one address: the platform's per-client limit
      // (300 a minute) is tested in test/platform, not here
    },
    { ...app, env: { RATE_LIMIT_MAX: '100000', ...app.env } },
  );
  if (!community) throw new Error('modules were not built');
  const [instructor, admin] = await Promise.all([kit.caller('instructor'), kit.caller('admin')]);
  demoInstructors = [{ id: instructor.id, displayName: 'Demo instructor' }];
  const db = kit.app.platform.database.db;

  const course: CommunityTest['course'] = async () => {
    const created = await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/courses', {
      as: instructor,
      body: {
        title: 'A course',
        price: { amount: 9900, currency: 'CNY' },
        level: 'beginner',
        language: 'zh-CN',
      },
    });
    const chapter = await kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/courses/${created.id}/chapters`,
      {
        as: instructor,
        body: { title: 'Chapter 1' },
      },
    );
    const lesson = (title: string, freePreview: boolean) =>
      kit.expectStatus<{ id: string }>(201, 'POST', `/api/v1/chapters/${chapter.id}/lessons`, {
        as: instructor,
        body: { title, kind: 'article', body: `Body of ${title}`, freePreview },
      });
    const preview = await lesson('Preview', true);
    const paid = await lesson('Paid', false);
    await kit.expectStatus(200, 'POST', `/api/v1/courses/${created.id}/submit`, { as: instructor });
    await kit.expectStatus(200, 'POST', `/api/v1/courses/${created.id}/approve`, { as: admin });
    return { id: created.id, previewLessonId: preview.id, paidLessonId: paid.id };
  };

  const pay = async (courseId: string, caller: Caller) => {
    const orderId = randomUUID();
    const data: OrderPaid = {
      orderId,
      userId: caller.id,
      lines: [{ courseId, title: 'A course', amount: 9900, instructorIds: [instructor.id] }],
      total: 9900,
      currency: 'CNY',
      provider: 'sandbox',
      paidAt: clock().toISOString(),
    };
    await inTransaction(db, (trx) => enqueue(trx, 'commerce', [OrderPaidEvent.create(orderId, data)]));
    return { ...caller, orderId };
  };

  const buyer: CommunityTest['buyer'] = async (courseId, ...roles) => {
    const bought = await pay(courseId, await kit.caller(...(roles.length > 0 ? roles : ['learner'])));
    await kit.settle();
    return bought;
  };

  const buyAgain: CommunityTest['buyAgain'] = async (caller, courseId) => {
    const bought = await pay(courseId, caller);
    await kit.settle();
    await jobsDone('community.verify-purchase');
    return bought;
  };

  const buyers: CommunityTest['buyers'] = async (courseId, count) => {
    const out: (Caller & { orderId: string })[] = [];
    for (let i = 0; i < count; i++) out.push(await pay(courseId, await kit.caller('learner')));
    await kit.settle();
    return out;
  };

  const refund: CommunityTest['refund'] = async (b, courseId) => {
    const data: OrderRefunded = {
      orderId: b.orderId,
      userId: b.id,
      refundId: randomUUID(),
      amount: 9900,
      currency: 'CNY',
      revokedCourseIds: [courseId],
      orderStatus: 'refunded',
      refundedAt: clock().toISOString(),
    };
    await inTransaction(db, (trx) => enqueue(trx, 'commerce', [OrderRefundedEvent.create(b.orderId, data)]));
    await kit.settle();
    await jobsDone('community.verify-purchase');
  };

  const register: CommunityTest['register'] = async (caller, displayName) => {
    await inTransaction(db, (trx) =>
      enqueue(trx, 'identity', [
        UserRegisteredEvent.create(caller.id, {
          userId: caller.id,
          email: `${caller.id}@example.com`,
          displayName,
        }),
      ]),
    );
    await kit.settle();
  };

  const jobState = async (where: ReturnType<typeof sql>) =>
    (await sql<{ state: string }>`select state from pgboss.job where ${where}`.execute(db)).rows.map(
      (r) => r.state,
    );

  const runJob: CommunityTest['runJob'] = async (name, data = {}) => {
    const id = await kit.app.platform.jobs.send(name, data);
    if (!id) throw new Error(`the job ${name} was not queued`);
    await waitFor(async () => {
      const [state] = await jobState(sql`id = ${id}`);
      if (state === 'failed') throw new Error(`the job ${name} failed`);
      return state === 'completed';
    }, `the job ${name}`);
  };

  const jobsDone: CommunityTest['jobsDone'] = (name) =>
    waitFor(async () => {
      const states = await jobState(sql`name = ${name}`);
      if (states.includes('failed')) throw new Error(`a ${name} job failed`);
      return states.every((s) => s === 'completed');
    }, `the ${name} jobs`);

  return {
    kit,
    community,
    clock,
    instructor,
    admin,
    course,
    buyer,
    buyAgain,
    buyers,
    refund,
    register,
    runJob,
    jobsDone,
  };
}

/**
 * identity's demo seed announcing its demo learners, as identity would (an outbox here), settled:
 * the members copy then names them.
 */
export async function announceDemoLearners(kit: Kit): Promise<void> {
  await inTransaction(kit.app.platform.database.db, (trx) =>
    enqueue(
      trx,
      'identity',
      DEMO_LEARNERS.map((l) =>
        UserRegisteredEvent.create(l.id, { userId: l.id, email: l.email, displayName: l.displayName }),
      ),
    ),
  );
  await kit.settle();
}
