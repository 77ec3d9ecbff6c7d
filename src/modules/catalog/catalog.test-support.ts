import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { waitFor } from '../../platform/messaging/test-support.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import { deliveriesInProgress } from '../../platform/messaging/inbox.js';
import type { TestApp } from '../../../test/helpers/app.js';
import { type Kit, startKit } from '../../../test/helpers/kit.js';
import { type CatalogApi, type CatalogDeps, createCatalogModule } from './index.js';

export interface Caller {
  id: string;
  token: string;
}

export interface CatalogTest {
  app: TestApp;
  /** The shared kit underneath, for helpers built on it (`exportPartOf`, `settle`). */
  kit: Kit;
  api: CatalogApi;
  instructor: Caller;
  otherInstructor: Caller;
  admin: Caller;
  learner: Caller;
  request(
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    options?: { as?: Caller | undefined; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  /** A published course with one chapter and the given article lessons (first is a free preview). */
  publishedCourse(input?: Partial<CourseInput>, as?: Caller): Promise<{ id: string; lessonIds: string[] }>;
  draftCourse(input?: Partial<CourseInput>, as?: Caller): Promise<string>;
}

export interface CourseInput {
  title: string;
  subtitle: string;
  description: string;
  price: { amount: number; currency: string };
  level: string;
  language: string;
  tags: string[];
  categoryId: string;
  lessons: number;
}

export async function startCatalog(
  deps: CatalogDeps = {},
  env: Record<string, string> = {},
  platform: Partial<Platform> = {},
  /** Modules to run beside the catalog (e.g. `identityOutbox()` to publish identity's events). */
  others: LecternModule[] = [],
): Promise<CatalogTest> {
  let api: CatalogApi | undefined;
  // the shared test kit: a fresh database, callers by role signed by the test keys, requests
  const kit = await startKit(
    (platform) => {
      const catalog = createCatalogModule(platform, deps);
      api = catalog.api;
      return [catalog, ...others];
    },
    { env, platform },
  );
  const app = kit.app;
  if (!api) throw new Error('the catalog module was not built');
  const [instructor, otherInstructor, admin, learner] = await Promise.all([
    kit.caller('instructor'),
    kit.caller('instructor'),
    kit.caller('admin'),
    kit.caller('learner'),
  ]);
  const request: CatalogTest['request'] = (method, url, options = {}) => kit.request(method, url, options);

  const expectStatus = (response: LightMyRequestResponse, status: number, what: string) => {
    if (response.statusCode !== status) {
      throw new Error(`${what}: expected ${status}, got ${response.statusCode} ${response.body}`);
    }
    return response.json<Record<string, unknown>>();
  };

  const draftCourse = async (input: Partial<CourseInput> = {}, as: Caller = instructor) => {
    const { lessons: _lessons, ...fields } = input;
    const created = expectStatus(
      await request('POST', '/api/v1/courses', {
        as,
        body: {
          title: 'A course',
          price: { amount: 9900, currency: 'CNY' },
          level: 'beginner',
          language: 'zh-CN',
          ...fields,
        },
      }),
      201,
      'create course',
    );
    return created.id as string;
  };

  const publishedCourse = async (input: Partial<CourseInput> = {}, as: Caller = instructor) => {
    const id = await draftCourse(input, as);
    const chapter = expectStatus(
      await request('POST', `/api/v1/courses/${id}/chapters`, { as, body: { title: 'Chapter 1' } }),
      201,
      'create chapter',
    );
    const lessonIds: string[] = [];
    for (let i = 0; i < (input.lessons ?? 2); i++) {
      const lesson = expectStatus(
        await request('POST', `/api/v1/chapters/${chapter.id as string}/lessons`, {
          as,
          body: {
            title: `Lesson ${i + 1}`,
            kind: 'article',
            body: `Body of lesson ${i + 1}`,
            freePreview: i === 0,
          },
        }),
        201,
        'create lesson',
      );
      lessonIds.push(lesson.id as string);
    }
    expectStatus(await request('POST', `/api/v1/courses/${id}/submit`, { as }), 200, 'submit');
    expectStatus(await request('POST', `/api/v1/courses/${id}/approve`, { as: admin }), 200, 'approve');
    return { id, lessonIds };
  };

  return {
    app,
    kit,
    api,
    instructor,
    otherInstructor,
    admin,
    learner,
    request,
    publishedCourse,
    draftCourse,
  };
}

/** A multipart/form-data body with one file part named `file`, and its content-type header. */
export function multipart(filename: string, bytes: Buffer, contentType = 'application/octet-stream') {
  const boundary = `----lectern${randomUUID()}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`;
  return {
    body: Buffer.concat([Buffer.from(head), bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** Events the catalog wrote to its outbox, oldest first. */
export async function outboxEvents(
  app: TestApp,
  type?: string,
): Promise<{ type: string; aggregate_id: string; data: unknown }[]> {
  let q = app.platform.database.db
    .withTables<{ 'catalog.outbox': { type: string; aggregate_id: string; data: unknown; seq: number } }>()
    .selectFrom('catalog.outbox')
    .select(['type', 'aggregate_id', 'data'])
    .orderBy('seq');
  if (type) q = q.where('type', '=', type);
  return q.execute();
}

/** Ids of a page response, in order. */
export function pageIds(response: LightMyRequestResponse): string[] {
  return response.json<{ data: { id: string }[] }>().data.map((c) => c.id);
}

/**
 * Wait until every catalog event so far is published and applied by the catalog's own cache
 * subscriber, so a test can warm the cache knowing no late invalidation will arrive.
 */
export async function settleEvents(app: TestApp): Promise<void> {
  const db = app.platform.database.db;
  await waitFor(async () => {
    const { rows } = await sql<{ waiting: boolean }>`
      select exists (
        select 1 from catalog.outbox o
        where o.published_at is null
           or (o.type in ('catalog.course.published', 'catalog.course.updated', 'catalog.course.archived', 'catalog.lesson.added')
               and not exists (select 1 from catalog.inbox i where i.consumer = 'catalog.cache-invalidation' and i.event_id = o.id))
      ) as waiting`.execute(db);
    // the cache drop runs after the inbox row commits: wait for the delivery itself to end
    return rows[0]?.waiting === false && deliveriesInProgress() === 0;
  }, 'catalog events to be delivered');
}

/**
 * Waits until the catalog's consumer has applied the event (its inbox row is committed). Asks
 * the database, not the API: polling routes would spend the rate limit and could cache a read
 * taken before the subscriber's transaction committed.
 */
export async function eventApplied(app: TestApp, consumer: string, eventId: string): Promise<void> {
  const db = app.platform.database.db;
  await waitFor(async () => {
    const { rows } = await sql<{ applied: boolean }>`
      select exists (
        select 1 from catalog.inbox where consumer = ${consumer} and event_id = ${eventId}
      ) as applied`.execute(db);
    return rows[0]?.applied === true;
  }, `${consumer} to apply event ${eventId}`);
}
