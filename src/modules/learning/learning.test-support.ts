import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { inTransaction } from '../../platform/db/database.js';
import { createTestClock, type TestClock } from '../../platform/clock.js';
import { enqueue, outboxMigration } from '../../platform/messaging/outbox.js';
import type { LecternModule } from '../../platform/module.js';
import { type Caller, type Kit, startKit } from '../../../test/helpers/kit.js';
import { type CatalogApi, createCatalogModule, type EntitlementCheck } from '../catalog/index.js';
import { PDFDocument } from 'pdf-lib';
import { type OrderPaid, OrderPaidEvent, type OrderRefunded, OrderRefundedEvent } from '../commerce/index.js';
import type { IdentityDirectory, UserSummary } from '../identity/index.js';
import { createLearningModule, type LearningDeps, type LearningModule } from './index.js';

/**
 * Stands in for commerce or identity: a module with that schema's outbox alone, into which tests
 * write its events (`commerce.order.paid/refunded`, `identity.user.closed`) exactly as it does
 * (event definition, enqueue in a transaction); the relay then delivers them to learning.
 */
function outboxOf(name: 'commerce' | 'identity'): LecternModule {
  return { name, migrations: { '0000-messaging': outboxMigration(name) } };
}

/** A small real PDF for a document lesson's file. */
async function onePagePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]).drawText('Notes', { x: 20, y: 100 });
  return Buffer.from(await doc.save());
}

export interface LessonSpec {
  kind?: 'article' | 'video' | 'document';
  freePreview?: boolean;
  durationSeconds?: number;
}

export interface LearningTest {
  kit: Kit;
  learning: LearningModule;
  catalog: CatalogApi;
  clock: TestClock;
  instructor: Caller;
  admin: Caller;
  learner: Caller;
  /** Display names identity would answer with, by user id. */
  names: Map<string, string>;
  /** A published course (price 9900 CNY unless given) with these lessons in one chapter. */
  course(input?: {
    price?: number;
    lessons?: LessonSpec[];
    publish?: boolean;
    title?: string;
  }): Promise<{ id: string; lessonIds: string[] }>;
  /** Write commerce.order.paid to commerce's outbox, as commerce would; returns the event id. */
  paid(userId: string, courseIds: string[], orderId?: string): Promise<{ orderId: string; eventId: string }>;
  refunded(userId: string, orderId: string, courseIds: string[]): Promise<{ eventId: string }>;
  /** Publish the outbox row again (the bus redelivering the same event id). */
  redeliver(schema: string, eventId: string): Promise<void>;
  /**
   * A new learner (named `name` for identity, when given) who bought a fresh published course;
   * the grant has been applied. Lessons default to a 60 s preview and two of 600 s.
   */
  bought(input?: { title?: string; lessons?: LessonSpec[]; name?: string }): Promise<{
    course: { id: string; lessonIds: string[] };
    learner: Caller;
    lessons: string[];
  }>;
  /** `PUT /lessons/:id/progress` as `as`, whatever the answer. */
  report(as: Caller, lessonId: string, body: unknown): ReturnType<Kit['request']>;
  /** The same report, which must be answered 200; its body. */
  reported(as: Caller, lessonId: string, body: unknown): Promise<ProgressState>;
  /** Learning's outbox events of `type` about `userId`. */
  learningEvents(type: string, userId: string): Promise<{ data: unknown }[]>;
}

/** The answer to a progress report. */
export interface ProgressState {
  accepted: boolean;
  position: number;
  resumePosition: number;
  completed: boolean;
  courseProgressPercent: number;
}

export async function startLearning(options: Partial<LearningDeps> = {}): Promise<LearningTest> {
  const clock = createTestClock(new Date('2026-03-01T08:00:00.000Z'));
  const names = new Map<string, string>();
  const identity: IdentityDirectory = {
    getUser: (id) =>
      Promise.resolve(
        names.has(id)
          ? ({
              id,
              email: `${id}@example.com`,
              displayName: names.get(id) ?? '',
              roles: ['learner'],
              status: 'active',
              emailVerified: true,
            } satisfies UserSummary)
          : undefined,
      ),
    findUserByEmail: () => Promise.resolve(undefined),
  };
  let learning: LearningModule | undefined;
  let catalog: CatalogApi | undefined;
  // bound late as in the registry: the catalog is built before learning
  const entitlements: EntitlementCheck = {
    canOpen: (userId, courseId) => learning?.canOpen(userId, courseId) ?? Promise.resolve(false),
  };
  const kit = await startKit((platform) => {
    const c = createCatalogModule(platform, { entitlements });
    catalog = c.api;
    learning = createLearningModule(platform, { catalog: c.api, identity, clock, ...options });
    return [c, outboxOf('commerce'), outboxOf('identity'), learning];
  });
  if (!learning || !catalog) throw new Error('modules were not built');
  const [instructor, admin, learner] = await Promise.all([
    kit.caller('instructor'),
    kit.caller('admin'),
    kit.caller('learner'),
  ]);

  const course: LearningTest['course'] = async (input = {}) => {
    const created = await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/courses', {
      as: instructor,
      body: {
        title: input.title ?? 'A course',
        price: { amount: input.price ?? 9900, currency: 'CNY' },
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
    const specs = input.lessons ?? [{ freePreview: true }, {}];
    const lessonIds: string[] = [];
    for (const [i, spec] of specs.entries()) {
      let assetId: string | undefined;
      if (spec.kind === 'document') {
        const pdf = await onePagePdf();
        const boundary = `----lectern${randomUUID()}`;
        const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
        const asset = await kit.expectStatus<{ id: string }>(
          201,
          'POST',
          `/api/v1/courses/${created.id}/assets?kind=document`,
          {
            as: instructor,
            body: Buffer.concat([Buffer.from(head), pdf, Buffer.from(`\r\n--${boundary}--\r\n`)]),
            headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
          },
        );
        assetId = asset.id;
      }
      const kind = spec.kind === 'document' ? 'document' : 'article';
      const lesson = await kit.expectStatus<{ id: string }>(
        201,
        'POST',
        `/api/v1/chapters/${chapter.id}/lessons`,
        {
          as: instructor,
          body: {
            title: `Lesson ${i + 1}`,
            kind,
            ...(kind === 'article' ? { body: `Body of lesson ${i + 1}` } : { assetId }),
            freePreview: spec.freePreview ?? false,
            ...(spec.durationSeconds === undefined ? {} : { durationSeconds: spec.durationSeconds }),
          },
        },
      );
      lessonIds.push(lesson.id);
    }
    if (input.publish ?? true) {
      await kit.expectStatus(200, 'POST', `/api/v1/courses/${created.id}/submit`, { as: instructor });
      await kit.expectStatus(200, 'POST', `/api/v1/courses/${created.id}/approve`, { as: admin });
    }
    return { id: created.id, lessonIds };
  };

  const db = kit.app.platform.database.db;
  const write = async (
    event: ReturnType<typeof OrderPaidEvent.create> | ReturnType<typeof OrderRefundedEvent.create>,
  ) =>
    inTransaction(db, async (trx) => {
      const [envelope] = await enqueue(trx, 'commerce', [event]);
      if (!envelope) throw new Error('nothing enqueued');
      return envelope.id;
    });

  const paid: LearningTest['paid'] = async (userId, courseIds, orderId = randomUUID()) => {
    const data: OrderPaid = {
      orderId,
      userId,
      lines: courseIds.map((courseId) => ({
        courseId,
        title: 'A course',
        amount: 9900,
        instructorIds: [instructor.id],
      })),
      total: 9900 * courseIds.length,
      currency: 'CNY',
      provider: 'sandbox',
      paidAt: clock().toISOString(),
    };
    return { orderId, eventId: await write(OrderPaidEvent.create(orderId, data)) };
  };

  const refunded: LearningTest['refunded'] = async (userId, orderId, courseIds) => {
    const data: OrderRefunded = {
      orderId,
      userId,
      refundId: randomUUID(),
      amount: 9900,
      currency: 'CNY',
      revokedCourseIds: courseIds,
      orderStatus: 'refunded',
      refundedAt: clock().toISOString(),
    };
    return { eventId: await write(OrderRefundedEvent.create(orderId, data)) };
  };

  const redeliver: LearningTest['redeliver'] = async (schema, eventId) => {
    if (!/^[a-z_]+$/.test(schema)) throw new Error(`not a schema: ${schema}`);
    await sql`update ${sql.table(`${schema}.outbox`)} set published_at = null where id = ${eventId}`.execute(
      db,
    );
  };

  const bought: LearningTest['bought'] = async (input = {}) => {
    const created = await course({
      ...(input.title === undefined ? {} : { title: input.title }),
      lessons: input.lessons ?? [
        { freePreview: true, durationSeconds: 60 },
        { durationSeconds: 600 },
        { durationSeconds: 600 },
      ],
    });
    const learner = await kit.caller('learner');
    if (input.name !== undefined) names.set(learner.id, input.name);
    await paid(learner.id, [created.id]);
    await kit.settle();
    return { course: created, learner, lessons: created.lessonIds };
  };

  const report: LearningTest['report'] = (as, lessonId, body) =>
    kit.request('PUT', `/api/v1/lessons/${lessonId}/progress`, { as, body });
  const reported: LearningTest['reported'] = (as, lessonId, body) =>
    kit.expectStatus<ProgressState>(200, 'PUT', `/api/v1/lessons/${lessonId}/progress`, { as, body });
  const learningEvents: LearningTest['learningEvents'] = async (type, userId) =>
    (await kit.outbox('learning', type)).filter((e) => (e.data as { userId?: string }).userId === userId);

  return {
    kit,
    learning,
    catalog,
    clock,
    instructor,
    admin,
    learner,
    names,
    course,
    paid,
    refunded,
    redeliver,
    bought,
    report,
    reported,
    learningEvents,
  };
}
