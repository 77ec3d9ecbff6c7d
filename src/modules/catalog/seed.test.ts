import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { outboxEvents } from './catalog.test-support.js';
import type { CatalogTables } from './tables.js';
import { type CatalogApi, DEMO_INSTRUCTORS, createCatalogModule, seedBulkCourses } from './index.js';

let app: TestApp;
let catalog: ReturnType<typeof createCatalogModule>;
const identityInstructor = randomUUID();

interface Page {
  data: { id: string; title: string; lessonCount: number; coverUrl: string | null }[];
  nextCursor: string | null;
}

const get = (url: string) => app.app.inject({ method: 'GET', url: url.replace(/^https?:\/\/[^/]+/, '') });

const countPublished = async () => {
  const row = await app.platform.database.db
    .withTables<{ 'catalog.courses': { id: string; status: string } }>()
    .selectFrom('catalog.courses')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'published')
    .executeTakeFirstOrThrow();
  return row.n;
};

beforeAll(async () => {
  app = await buildTestApp((platform) => {
    // as registry.ts passes identity's demo instructors, found when seeding
    catalog = createCatalogModule(platform, {
      demoInstructors: () => Promise.resolve([{ id: identityInstructor, displayName: '林薇 Lin Wei' }]),
    });
    return [catalog];
  });
});

afterAll(async () => {
  await app.stop();
});

describe('demo data', () => {
  // no speed goal here (that is `npm run bench`): the demo goes through about 900 service calls,
  // each its own transaction, so a loaded machine needs more than the default 30 s
  it('seeds a live catalog once: courses in both languages, outlines, playable previews', {
    timeout: 180_000,
  }, async () => {
    const lines = await catalog.seed?.();
    expect(lines?.[0]).toMatch(/55 published courses/);
    expect(await countPublished()).toBe(55);
    // made through the services: each course was approved once, announcing it to other modules,
    // and its lessons were added through the outline (one event each)
    const published = await outboxEvents(app, 'catalog.course.published');
    expect(published).toHaveLength(55);
    expect(new Set(published.map((e) => e.aggregate_id)).size).toBe(55);
    expect((await outboxEvents(app, 'catalog.lesson.added')).length).toBeGreaterThanOrEqual(55 * 4);

    const page = (await get('/api/v1/courses?limit=100')).json<Page>();
    expect(page.data).toHaveLength(55);
    expect(page.data.some((c) => /[\u4e00-\u9fff]/.test(c.title))).toBe(true);
    expect(page.data.some((c) => /^[A-Za-z]/.test(c.title))).toBe(true);
    expect(page.data.every((c) => c.lessonCount >= 4 && c.coverUrl !== null)).toBe(true);

    const found = (await get(`/api/v1/courses?q=${encodeURIComponent('编程')}`)).json<Page>();
    expect(found.data.map((c) => c.title)).toContain('Python编程入门');

    const python = found.data.find((c) => c.title === 'Python编程入门');
    const detail = (await get(`/api/v1/courses/${python?.id ?? ''}`)).json<{
      instructors: { id: string; displayName: string }[];
      chapters: {
        lessons: { id: string; kind: string; freePreview: boolean; durationSeconds: number | null }[];
      }[];
    }>();
    expect(detail.instructors).toEqual([{ id: identityInstructor, displayName: '林薇 Lin Wei' }]);
    const catalogOnly = (await get(`/api/v1/instructors/${DEMO_INSTRUCTORS[1]?.id ?? ''}`)).json<{
      courseCount: number;
    }>();
    expect(catalogOnly.courseCount).toBeGreaterThan(5);
    const preview = detail.chapters
      .flatMap((c) => c.lessons)
      .find((l) => l.kind === 'video' && l.freePreview);
    expect(preview?.durationSeconds).toBe(510);
    const signed = (await get(`/api/v1/lessons/${preview?.id ?? ''}/asset-url`)).json<{ url: string }>();
    const video = await get(signed.url);
    expect(video.statusCode).toBe(200);
    expect(video.headers['content-type']).toBe('video/mp4');
    expect((await get(python?.coverUrl ?? '')).headers['content-type']).toBe('image/png');

    expect(await catalog.seed?.()).toBeUndefined();
    expect(await countPublished()).toBe(55);
    expect(await outboxEvents(app, 'catalog.course.published')).toHaveLength(55);
  });

  it("offers other modules' demo seeds the demo instructors' courses only", async () => {
    const api: CatalogApi = catalog.api;
    const demo = await api.demoCourseIds(100);
    expect(demo).toHaveLength(55);
    // a course of someone else (a real instructor on a platform that keeps SEED_DEMO on) is never offered
    const [taken] = demo;
    const db = app.platform.database.db.withTables<CatalogTables>();
    const someoneElse = randomUUID();
    const now = new Date();
    await db
      .insertInto('catalog.instructors')
      .values({ id: someoneElse, display_name: 'A real instructor', created_at: now, updated_at: now })
      .execute();
    await db
      .updateTable('catalog.courses')
      .set({ owner_id: someoneElse })
      .where('id', '=', taken ?? '')
      .execute();
    const after = await api.demoCourseIds(100);
    expect(after).toHaveLength(54);
    expect(after).not.toContain(taken);
  });

  it('bulk-creates courses that list, page and search like any other', async () => {
    const before = await countPublished();
    expect(await seedBulkCourses(app.platform.database.db, 1200, { batchSize: 400 })).toBe(1200);
    expect(await countPublished()).toBe(before + 1200);
    const page = (await get('/api/v1/courses?limit=5&sort=popular')).json<Page>();
    expect(page.data).toHaveLength(5);
    expect(page.nextCursor).not.toBeNull();
    const found = (await get('/api/v1/courses?q=kubernetes&limit=100')).json<Page>();
    expect(found.data.length).toBeGreaterThan(50);
    const detail = (await get(`/api/v1/courses/${found.data[0]?.id ?? ''}`)).json<{ lessonCount: number }>();
    expect(detail.lessonCount).toBe(2);
  });
});

describe('bench scenarios', () => {
  it('prepare requests that answer 200 on a running server', async () => {
    await app.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.app.server.address() as AddressInfo;
    const baseUrl = `http://127.0.0.1:${port}`;
    expect(catalog.bench?.length).toBeGreaterThanOrEqual(2);
    for (const scenario of catalog.bench ?? []) {
      const request = await scenario.prepare({ baseUrl });
      // a pooled scenario's `path` is only a label: its pool's paths must answer (a sample of
      // them, within the rate limit)
      for (const path of request.paths?.slice(0, 5) ?? [request.path]) {
        const response = await fetch(`${baseUrl}${path}`, { method: request.method ?? 'GET' });
        expect(response.status, `${scenario.name}: ${path}`).toBe(200);
      }
    }
  });
});
