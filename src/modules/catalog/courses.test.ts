import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadLetterTables } from '../../platform/messaging/dead-letters.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { CoursePublishedEvent, CourseUpdatedEvent } from './catalog.events.js';
import {
  type CatalogTest,
  eventApplied,
  outboxEvents,
  pageIds,
  startCatalog,
} from './catalog.test-support.js';

interface Detail {
  chapters: { title: string; lessons: { title: string; locked: boolean }[] }[];
}

let t: CatalogTest;
/** `catalog.course.updated` v1 as consumers built before the course facts knew it. */
const OldCourseUpdated = Type.Object({
  courseId: Type.String({ minLength: 1 }),
  ownerId: Type.String({ minLength: 1 }),
  status: Type.String(),
  changes: Type.Array(Type.String()),
  priceAmount: Type.Integer({ minimum: 0 }),
  currency: Type.String({ pattern: '^[A-Z]{3}$' }),
});
/** What the identity module would answer for display names. */
const directory = new Map<string, string>();

beforeAll(async () => {
  t = await startCatalog({ instructors: { displayNameOf: (id) => Promise.resolve(directory.get(id)) } });
});

afterAll(async () => {
  await t.app.stop();
});

const course = (id: string, as?: CatalogTest['admin']) => t.request('GET', `/api/v1/courses/${id}`, { as });
/**
 * After a consumer's inbox row commits, its cache drop follows (after the commit, so a read in
 * the gap cannot put the old rows back): wait for the read to show `expected`.
 */
const shows = async (read: () => Promise<unknown>, expected: unknown) => {
  await waitFor(async () => JSON.stringify(await read()) === JSON.stringify(expected), 'the cache drop');
};

describe('authoring and ownership', () => {
  it('lets instructors create drafts that only they and admins can see', async () => {
    const id = await t.draftCourse({ title: '  Rust 入门  ', tags: ['Rust ', 'rust', '系统编程'] });
    const own = await course(id, t.instructor);
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({
      title: 'Rust 入门',
      status: 'draft',
      ownerId: t.instructor.id,
      tags: ['rust', '系统编程'],
    });
    expect((await course(id, t.admin)).statusCode).toBe(200);
    for (const who of [undefined, t.learner, t.otherInstructor]) {
      const r = await course(id, who);
      expect(r.statusCode).toBe(404);
      expect(r.json().code).toBe('catalog.course-not-found');
    }
    const list = await t.request('GET', '/api/v1/courses?limit=100');
    expect(pageIds(list)).not.toContain(id);
  });

  it('refuses authoring to learners and anonymous callers', async () => {
    const body = { title: 'x', price: { amount: 0, currency: 'CNY' }, level: 'beginner', language: 'en' };
    expect((await t.request('POST', '/api/v1/courses', { body })).statusCode).toBe(401);
    const learner = await t.request('POST', '/api/v1/courses', { as: t.learner, body });
    expect(learner.statusCode).toBe(403);
    expect(learner.json().code).toBe('auth.role-required');
  });

  it('validates input with clear problems and changes nothing', async () => {
    const base = {
      title: 'Valid',
      price: { amount: 100, currency: 'CNY' },
      level: 'beginner',
      language: 'en',
    };
    const cases: [unknown, number, string][] = [
      [{ ...base, price: { amount: -1, currency: 'CNY' } }, 400, 'request.invalid'],
      [{ ...base, price: { amount: 9.99, currency: 'CNY' } }, 400, 'request.invalid'],
      [{ ...base, price: { amount: 100, currency: 'yuan' } }, 400, 'request.invalid'],
      [{ ...base, level: 'expert' }, 400, 'request.invalid'],
      [{ ...base, title: '   ' }, 400, 'catalog.blank-field'],
      [{ ...base, categoryId: randomUUID() }, 400, 'catalog.unknown-category'],
      [{ ...base, instructorIds: [randomUUID()] }, 400, 'catalog.unknown-instructor'],
    ];
    const before = (
      await t.request('GET', '/api/v1/studio/courses?limit=100', { as: t.otherInstructor })
    ).json().data.length;
    for (const [body, status, code] of cases) {
      const r = await t.request('POST', '/api/v1/courses', { as: t.otherInstructor, body });
      expect(r.statusCode, JSON.stringify(body)).toBe(status);
      expect(r.headers['content-type']).toContain('application/problem+json');
      expect(r.json().code).toBe(code);
    }
    const after = (
      await t.request('GET', '/api/v1/studio/courses?limit=100', { as: t.otherInstructor })
    ).json().data.length;
    expect(after).toBe(before);
  });

  it('lets only the owner or an admin edit', async () => {
    const draft = await t.draftCourse();
    const hidden = await t.request('PATCH', `/api/v1/courses/${draft}`, {
      as: t.otherInstructor,
      body: { title: 'Mine now' },
    });
    expect(hidden.statusCode).toBe(404);

    const { id } = await t.publishedCourse({ title: 'Owned course' });
    const foreign = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.otherInstructor,
      body: { title: 'Mine now' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json().code).toBe('catalog.not-course-owner');
    const chapter = await t.request('POST', `/api/v1/courses/${id}/chapters`, {
      as: t.otherInstructor,
      body: { title: 'x' },
    });
    expect(chapter.statusCode).toBe(403);

    const byAdmin = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.admin,
      body: { subtitle: 'Edited by an admin' },
    });
    expect(byAdmin.statusCode).toBe(200);
    expect((await course(id)).json()).toMatchObject({
      title: 'Owned course',
      subtitle: 'Edited by an admin',
    });
  });
});

describe('publishing workflow', () => {
  it('goes draft → in_review → (rejected) → in_review → published, with events', async () => {
    const id = await t.draftCourse({ title: 'Workflow course' });

    const empty = await t.request('POST', `/api/v1/courses/${id}/submit`, { as: t.instructor });
    expect(empty.statusCode).toBe(409);
    expect(empty.json()).toMatchObject({
      code: 'catalog.course-incomplete',
      fields: [{ field: '/chapters', message: 'The course has no lessons.' }],
    });
    expect((await course(id, t.instructor)).json().status).toBe('draft');

    const chapter = (
      await t.request('POST', `/api/v1/courses/${id}/chapters`, { as: t.instructor, body: { title: 'Ch' } })
    ).json();
    const lesson = await t.request('POST', `/api/v1/chapters/${chapter.id}/lessons`, {
      as: t.instructor,
      body: { title: 'Video without a file yet', kind: 'video' },
    });
    expect(lesson.statusCode).toBe(201);
    const noContent = await t.request('POST', `/api/v1/courses/${id}/submit`, { as: t.instructor });
    expect(noContent.json().fields).toEqual([
      {
        field: `/lessons/${lesson.json().id}`,
        message: 'Lesson "Video without a file yet" has no content yet.',
      },
    ]);
    await t.request('DELETE', `/api/v1/lessons/${lesson.json().id}`, { as: t.instructor });
    await t.request('POST', `/api/v1/chapters/${chapter.id}/lessons`, {
      as: t.instructor,
      body: { title: 'Read me', kind: 'article', body: 'Text' },
    });

    expect((await t.request('POST', `/api/v1/courses/${id}/approve`, { as: t.admin })).json().code).toBe(
      'catalog.invalid-transition',
    );
    const submitted = await t.request('POST', `/api/v1/courses/${id}/submit`, { as: t.instructor });
    expect(submitted.json().status).toBe('in_review');

    const editInReview = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { title: 'Sneaky' },
    });
    expect(editInReview.statusCode).toBe(409);
    expect(editInReview.json().code).toBe('catalog.course-in-review');
    const selfApprove = await t.request('POST', `/api/v1/courses/${id}/approve`, { as: t.instructor });
    expect(selfApprove.statusCode).toBe(403);

    expect(pageIds(await t.request('GET', '/api/v1/review/courses', { as: t.admin }))).toContain(id);

    const noReason = await t.request('POST', `/api/v1/courses/${id}/reject`, { as: t.admin, body: {} });
    expect(noReason.statusCode).toBe(400);
    const blank = await t.request('POST', `/api/v1/courses/${id}/reject`, {
      as: t.admin,
      body: { reason: '   ' },
    });
    expect(blank.json().code).toBe('catalog.reason-required');
    const rejected = await t.request('POST', `/api/v1/courses/${id}/reject`, {
      as: t.admin,
      body: { reason: 'Please add a course description.' },
    });
    expect(rejected.json()).toMatchObject({
      status: 'draft',
      reviewNote: 'Please add a course description.',
    });

    await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { description: '## What you learn' },
    });
    await t.request('POST', `/api/v1/courses/${id}/submit`, { as: t.instructor });
    const approved = await t.request('POST', `/api/v1/courses/${id}/approve`, { as: t.admin });
    expect(approved.json()).toMatchObject({ status: 'published', reviewNote: null });
    expect(approved.json().publishedAt).toBeTruthy();

    const publicView = (await course(id)).json();
    expect(publicView.status).toBe('published');
    expect(publicView).not.toHaveProperty('reviewNote');

    const types = (await outboxEvents(t.app)).filter((e) => e.aggregate_id === id).map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'catalog.lesson.added',
        'catalog.course.submitted',
        'catalog.course.rejected',
        'catalog.course.published',
      ]),
    );
    const published = await outboxEvents(t.app, 'catalog.course.published');
    expect(published.find((e) => e.aggregate_id === id)?.data).toMatchObject({
      courseId: id,
      ownerId: t.instructor.id,
      priceAmount: 9900,
      currency: 'CNY',
    });
  });

  it('keeps a published course on sale while it is edited; a new price applies from then on', async () => {
    const { id } = await t.publishedCourse({ title: 'On sale', price: { amount: 19900, currency: 'CNY' } });
    expect(await t.api.getCoursePrice(id)).toEqual({ amount: 19900, currency: 'CNY' });

    const edited = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { price: { amount: 14900, currency: 'CNY' }, title: 'On sale (2nd edition)' },
    });
    expect(edited.json()).toMatchObject({ status: 'published', price: { amount: 14900, currency: 'CNY' } });
    expect(await t.api.getCourseForSale(id)).toMatchObject({
      onSale: true,
      status: 'published',
      price: { amount: 14900, currency: 'CNY' },
      instructorIds: [t.instructor.id],
    });
    const updated = (await outboxEvents(t.app, 'catalog.course.updated')).filter(
      (e) => e.aggregate_id === id,
    );
    expect(updated.at(-1)?.data).toMatchObject({
      changes: ['title', 'price'],
      priceAmount: 14900,
      status: 'published',
    });

    const unchanged = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { title: 'On sale (2nd edition)' },
    });
    expect(unchanged.statusCode).toBe(200);
    expect(
      (await outboxEvents(t.app, 'catalog.course.updated')).filter((e) => e.aggregate_id === id),
    ).toHaveLength(updated.length);
  });

  it('tells what a course is about in its published and updated events: title, category, tags', async () => {
    const category = (
      await t.request('POST', '/api/v1/categories', {
        as: t.admin,
        body: { slug: 'facts-programming', name: '编程' },
      })
    ).json<{ id: string }>();
    const { id } = await t.publishedCourse({
      title: 'Facts',
      categoryId: category.id,
      tags: ['Web', 'python'],
    });
    const ofCourse = async (type: string) =>
      (await outboxEvents(t.app, type)).filter((e) => e.aggregate_id === id).map((e) => e.data);
    const published = (await ofCourse('catalog.course.published'))[0];
    expect(published).toMatchObject({
      categoryId: category.id,
      category: { id: category.id, slug: 'facts-programming', name: '编程' },
      tags: ['python', 'web'],
    });
    expect(CoursePublishedEvent.problems(published)).toBeUndefined();

    // every later update carries the facts as they are now, whichever part changed
    await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { tags: ['python', 'django'], title: 'Facts, 2nd edition' },
    });
    expect((await ofCourse('catalog.course.updated')).at(-1)).toMatchObject({
      changes: ['title', 'tags'],
      title: 'Facts, 2nd edition',
      categoryId: category.id,
      category: { name: '编程' },
      tags: ['django', 'python'],
    });
    const chapter = (
      await t.request('POST', `/api/v1/courses/${id}/chapters`, { as: t.instructor, body: { title: 'More' } })
    ).json<{ id: string }>();
    expect(chapter.id).toBeTruthy();
    const outline = (await ofCourse('catalog.course.updated')).at(-1);
    expect(outline).toMatchObject({
      changes: ['outline'],
      tags: ['django', 'python'],
      categoryId: category.id,
    });
    expect(CourseUpdatedEvent.problems(outline)).toBeUndefined();

    // a renamed category is announced itself: copies of its name need not wait for a course event
    await t.request('PATCH', `/api/v1/categories/${category.id}`, {
      as: t.admin,
      body: { name: '程序设计' },
    });
    expect((await outboxEvents(t.app, 'catalog.category.updated')).at(-1)).toMatchObject({
      aggregate_id: category.id,
      data: { id: category.id, slug: 'facts-programming', name: '程序设计', parentId: null },
    });

    // taken out of its category and stripped of tags: the event says "none", not "not told"
    await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { categoryId: null, tags: [] },
    });
    expect((await ofCourse('catalog.course.updated')).at(-1)).toMatchObject({
      changes: ['category', 'tags'],
      categoryId: null,
      category: null,
      tags: [],
    });
  });

  it('keeps version 1 of the course events readable both ways: old events without facts, old consumers', () => {
    const courseId = randomUUID();
    const before = {
      courseId,
      ownerId: randomUUID(),
      status: 'published',
      changes: ['title'],
      priceAmount: 100,
      currency: 'CNY',
    };
    // an event written before the facts were added still matches
    expect(CourseUpdatedEvent.version).toBe(1);
    expect(CoursePublishedEvent.version).toBe(1);
    expect(CourseUpdatedEvent.problems(before)).toBeUndefined();
    // and a new event still matches the shape a consumer built before them knew
    const withFacts = { ...before, title: 'T', categoryId: null, category: null, tags: ['a'] };
    expect(Compile(OldCourseUpdated).Check(withFacts)).toBe(true);
    // the facts, when present, are checked
    expect(CourseUpdatedEvent.problems({ ...before, tags: [1] })).toContain('/tags');
    expect(CourseUpdatedEvent.problems({ ...before, category: { id: 'x' } })).toContain('/category');
  });

  it('archives: off the list and off sale, still readable, no longer editable', async () => {
    const { id } = await t.publishedCourse({ title: 'To archive' });
    const foreign = await t.request('POST', `/api/v1/courses/${id}/archive`, { as: t.otherInstructor });
    expect(foreign.statusCode).toBe(403);
    const archived = await t.request('POST', `/api/v1/courses/${id}/archive`, { as: t.instructor });
    expect(archived.json()).toMatchObject({ status: 'archived' });
    expect((await course(id)).json().status).toBe('archived');
    expect((await t.api.getCourseForSale(id))?.onSale).toBe(false);
    const list = await t.request('GET', '/api/v1/courses?limit=100');
    expect(pageIds(list)).not.toContain(id);
    const edit = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { title: 'Back' },
    });
    expect(edit.json().code).toBe('catalog.course-archived');
    expect((await outboxEvents(t.app, 'catalog.course.archived')).some((e) => e.aggregate_id === id)).toBe(
      true,
    );
    expect(await t.api.getCourseForSale(randomUUID())).toBeUndefined();
    expect(await t.api.getCoursePrice('not-a-uuid')).toBeUndefined();
  });

  it('deletes never-published drafts only', async () => {
    const draft = await t.draftCourse();
    expect(
      (await t.request('DELETE', `/api/v1/courses/${draft}`, { as: t.otherInstructor })).statusCode,
    ).toBe(404);
    expect((await t.request('DELETE', `/api/v1/courses/${draft}`, { as: t.instructor })).statusCode).toBe(
      204,
    );
    expect((await course(draft, t.instructor)).statusCode).toBe(404);
    const { id } = await t.publishedCourse();
    const refused = await t.request('DELETE', `/api/v1/courses/${id}`, { as: t.instructor });
    expect(refused.json().code).toBe('catalog.course-not-deletable');
  });
});

describe('outline', () => {
  it('reorders chapters and moves lessons between them', async () => {
    const id = await t.draftCourse();
    const ch1 = (
      await t.request('POST', `/api/v1/courses/${id}/chapters`, { as: t.instructor, body: { title: 'One' } })
    ).json();
    const ch2 = (
      await t.request('POST', `/api/v1/courses/${id}/chapters`, { as: t.instructor, body: { title: 'Two' } })
    ).json();
    const add = async (chapterId: string, title: string) =>
      (
        await t.request('POST', `/api/v1/chapters/${chapterId}/lessons`, {
          as: t.instructor,
          body: { title, kind: 'article', body: 'x' },
        })
      ).json().id as string;
    const a = await add(ch1.id, 'A');
    const b = await add(ch1.id, 'B');
    const c = await add(ch2.id, 'C');

    const mismatch = await t.request('PUT', `/api/v1/courses/${id}/outline`, {
      as: t.instructor,
      body: {
        chapters: [
          { id: ch2.id, lessonIds: [c, a] },
          { id: ch1.id, lessonIds: [] },
        ],
      },
    });
    expect(mismatch.json().code).toBe('catalog.outline-mismatch');

    const reordered = await t.request('PUT', `/api/v1/courses/${id}/outline`, {
      as: t.instructor,
      body: {
        chapters: [
          { id: ch2.id, lessonIds: [c, a] },
          { id: ch1.id, lessonIds: [b] },
        ],
      },
    });
    expect(reordered.statusCode).toBe(200);
    const outline = reordered.json<Detail>().chapters.map((ch) => [ch.title, ch.lessons.map((l) => l.title)]);
    expect(outline).toEqual([
      ['Two', ['C', 'A']],
      ['One', ['B']],
    ]);
    const notEmpty = await t.request('DELETE', `/api/v1/chapters/${ch1.id}`, { as: t.instructor });
    expect(notEmpty.json().code).toBe('catalog.chapter-not-empty');
  });

  it('shows paid lessons as metadata only', async () => {
    const { id, lessonIds } = await t.publishedCourse();
    const [free, paid] = lessonIds;
    const outline = (await course(id)).json<Detail>().chapters[0]?.lessons;
    expect(outline?.map((l) => l.locked)).toEqual([false, true]);
    expect((await t.request('GET', `/api/v1/lessons/${free}`)).json()).toMatchObject({
      locked: false,
      body: 'Body of lesson 1',
    });
    expect((await t.request('GET', `/api/v1/lessons/${paid}`, { as: t.learner })).json()).toMatchObject({
      locked: true,
      body: null,
    });
    expect((await t.request('GET', `/api/v1/lessons/${paid}`, { as: t.instructor })).json()).toMatchObject({
      locked: false,
      body: 'Body of lesson 2',
    });
    const ownerView = (await course(id, t.instructor)).json<Detail>().chapters[0]?.lessons;
    expect(ownerView?.map((l) => l.locked)).toEqual([false, false]);
  });
});

describe('documentation', () => {
  it('describes every catalog route in the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/openapi.json')).json<{ paths: Record<string, unknown> }>();
    for (const route of [
      '/api/v1/courses',
      '/api/v1/courses/{courseId}',
      '/api/v1/courses/{courseId}/assets',
      '/api/v1/me/favourites',
    ]) {
      expect(doc.paths).toHaveProperty([route]);
    }
  });
});

describe('categories and instructors', () => {
  it('keeps a tree: counts include sub-categories, no cycles, unique slugs', async () => {
    const create = (body: object) => t.request('POST', '/api/v1/categories', { as: t.admin, body });
    const root = (await create({ slug: 'tree-root', name: 'Root' })).json();
    const child = (await create({ slug: 'tree-child', name: 'Child', parentId: root.id })).json();
    expect((await create({ slug: 'tree-child', name: 'Again' })).statusCode).toBe(409);
    expect(
      (await t.request('POST', '/api/v1/categories', { as: t.instructor, body: { slug: 'x', name: 'x' } }))
        .statusCode,
    ).toBe(403);
    await t.publishedCourse({ categoryId: child.id });

    const tree = (await t.request('GET', '/api/v1/categories/tree')).json<{ data: { id: string }[] }>().data;
    const byId = new Map(tree.map((n) => [n.id, n]));
    expect(byId.get(root.id)).toMatchObject({ depth: 0, courseCount: 1 });
    expect(byId.get(child.id)).toMatchObject({ depth: 1, courseCount: 1, parentId: root.id });
    const position = (id: string) => tree.findIndex((n) => n.id === id);
    expect(position(child.id)).toBe(position(root.id) + 1);

    const cycle = await t.request('PATCH', `/api/v1/categories/${root.id}`, {
      as: t.admin,
      body: { parentId: child.id },
    });
    expect(cycle.json().code).toBe('catalog.category-cycle');
    const inUse = await t.request('DELETE', `/api/v1/categories/${child.id}`, { as: t.admin });
    expect(inUse.json().code).toBe('catalog.category-in-use');
  });

  it('keeps a local copy of instructor profiles from identity’s events, and has no route that writes one', async () => {
    const { id } = await t.publishedCourse({ title: 'Named course' }, t.otherInstructor);
    // identity is the one writer of the profile; the catalog's old second writer is gone
    const refused = await t.request('PUT', '/api/v1/instructors/me', {
      as: t.otherInstructor,
      body: { displayName: 'Someone else' },
    });
    expect([404, 405]).toContain(refused.statusCode);
    const profileEvent = randomUUID();
    await t.app.platform.bus.publish({
      id: profileEvent,
      type: 'identity.user.profile_updated',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: t.otherInstructor.id,
      data: { userId: t.otherInstructor.id, displayName: '刘老师', headline: '十年教龄', bio: '教书育人' },
    });
    await eventApplied(t.app, 'catalog.instructor-profile-updates', profileEvent);
    await shows(
      async () => (await course(id)).json<{ instructors: unknown }>().instructors,
      [{ id: t.otherInstructor.id, displayName: '刘老师' }],
    );
    const page = (await t.request('GET', `/api/v1/instructors/${t.otherInstructor.id}`)).json();
    expect(page).toMatchObject({
      displayName: '刘老师',
      headline: '十年教龄',
      bio: '教书育人',
      courseCount: 1,
    });
    expect(page.courses.data).toEqual([expect.objectContaining({ id })]);

    const approvedEvent = randomUUID();
    await t.app.platform.bus.publish({
      id: approvedEvent,
      type: 'identity.instructor.approved',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: t.otherInstructor.id,
      data: {
        userId: t.otherInstructor.id,
        applicationId: randomUUID(),
        approvedBy: t.admin.id,
        displayName: 'Liu Laoshi',
      },
    });
    await eventApplied(t.app, 'catalog.instructor-profiles', approvedEvent);
    await shows(
      async () => (await course(id)).json<{ instructors: unknown }>().instructors,
      [{ id: t.otherInstructor.id, displayName: 'Liu Laoshi' }],
    );
    expect((await t.request('GET', `/api/v1/instructors/${randomUUID()}`)).statusCode).toBe(404);
  });

  it('dead-letters identity events that do not match identity’s definitions, changing nothing', async () => {
    const { id } = await t.publishedCourse({ title: 'Guarded names' }, t.otherInstructor);
    const before = (await course(id, t.admin)).json<{ instructors: unknown }>().instructors;
    const eventId = randomUUID();
    await t.app.platform.bus.publish({
      id: eventId,
      type: 'identity.user.profile_updated',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: t.otherInstructor.id,
      // no headline or bio, and a name that is not text
      data: { userId: t.otherInstructor.id, displayName: 42 },
    });
    await eventApplied(t.app, 'catalog.instructor-profile-updates', eventId);
    const letter = await deadLetterTables(t.app.platform.database.db)
      .selectFrom('dead_letters')
      .select(['consumer', 'reason'])
      .where('event_id', '=', eventId)
      .executeTakeFirstOrThrow();
    expect(letter.consumer).toBe('catalog.instructor-profile-updates');
    expect(letter.reason).toMatch(/displayName/);
    expect((await course(id, t.admin)).json<{ instructors: unknown }>().instructors).toEqual(before);
  });

  it('asks the directory for the name of a new instructor, and takes renames from identity’s events', async () => {
    const id = randomUUID();
    directory.set(id, '赵老师');
    const newcomer = { id, token: await t.app.tokens.user(id, ['instructor']) };
    const { id: courseId } = await t.publishedCourse({ title: 'First course' }, newcomer);
    expect((await course(courseId)).json().instructors).toEqual([{ id, displayName: '赵老师' }]);

    const approvedEvent = randomUUID();
    await t.app.platform.bus.publish({
      id: approvedEvent,
      type: 'identity.instructor.approved',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: id,
      data: { userId: id, applicationId: randomUUID(), approvedBy: t.admin.id, displayName: 'Zhao Laoshi' },
    });
    await eventApplied(t.app, 'catalog.instructor-profiles', approvedEvent);
    await shows(
      async () =>
        (await t.request('GET', `/api/v1/instructors/${id}`)).json<{ displayName: string }>().displayName,
      'Zhao Laoshi',
    );
    expect(pageIds(await t.request('GET', '/api/v1/courses?q=zhao'))).toEqual([courseId]);
  });
});

describe('blank text and currencies (hardening)', () => {
  /** Text that looks like nothing: spaces of several kinds and invisible format characters. */
  const blanks = ['   ', '\u3000\u00a0', '\u200b\u200c\u200d', '\u2060\ufeff\u00ad', ' \u200b \u3164 '];

  const expectBlank = (
    r: { statusCode: number; json: () => { code: string; fields?: { field: string }[] } },
    field: string,
  ) => {
    expect(r.statusCode).toBe(400);
    const body = r.json();
    expect(['catalog.blank-field', 'catalog.reason-required']).toContain(body.code);
    expect(body.fields?.map((f) => f.field)).toContain(field);
  };

  it('refuses blank or invisible-only required text in every catalog field and saves nothing', async () => {
    const base = { price: { amount: 100, currency: 'CNY' }, level: 'beginner', language: 'en' };
    const draft = await t.draftCourse({ title: 'Blank checks' });
    const chapter = (
      await t.request('POST', `/api/v1/courses/${draft}/chapters`, {
        as: t.instructor,
        body: { title: 'Ch' },
      })
    ).json<{ id: string }>().id;
    const lesson = (
      await t.request('POST', `/api/v1/chapters/${chapter}/lessons`, {
        as: t.instructor,
        body: { title: 'L', kind: 'article', body: 'x' },
      })
    ).json<{ id: string }>().id;
    const category = (
      await t.request('POST', '/api/v1/categories', {
        as: t.admin,
        body: { slug: 'blank-checks', name: 'Blank' },
      })
    ).json<{ id: string }>().id;
    const { id: published } = await t.publishedCourse({ title: 'Published for rename' });

    for (const blank of blanks) {
      expectBlank(
        await t.request('POST', '/api/v1/courses', { as: t.instructor, body: { ...base, title: blank } }),
        '/body/title',
      );
      expectBlank(
        await t.request('PATCH', `/api/v1/courses/${published}`, {
          as: t.instructor,
          body: { title: blank },
        }),
        '/body/title',
      );
      expectBlank(
        await t.request('POST', `/api/v1/courses/${draft}/chapters`, {
          as: t.instructor,
          body: { title: blank },
        }),
        '/body/title',
      );
      expectBlank(
        await t.request('PATCH', `/api/v1/chapters/${chapter}`, { as: t.instructor, body: { title: blank } }),
        '/body/title',
      );
      expectBlank(
        await t.request('POST', `/api/v1/chapters/${chapter}/lessons`, {
          as: t.instructor,
          body: { title: blank, kind: 'article' },
        }),
        '/body/title',
      );
      expectBlank(
        await t.request('PATCH', `/api/v1/lessons/${lesson}`, { as: t.instructor, body: { title: blank } }),
        '/body/title',
      );
      expectBlank(
        await t.request('POST', '/api/v1/categories', {
          as: t.admin,
          body: { slug: 'blank-new', name: blank },
        }),
        '/body/name',
      );
      expectBlank(
        await t.request('PATCH', `/api/v1/categories/${category}`, { as: t.admin, body: { name: blank } }),
        '/body/name',
      );
    }
    // nothing was renamed or created
    expect((await course(published, t.instructor)).json()).toMatchObject({ title: 'Published for rename' });
    const tree = (await t.request('GET', '/api/v1/categories/tree')).json<{
      data: { slug: string; name: string }[];
    }>();
    expect(tree.data.find((c) => c.slug === 'blank-checks')?.name).toBe('Blank');
    expect(tree.data.some((c) => c.slug === 'blank-new')).toBe(false);
    const detail = (await course(draft, t.instructor)).json<Detail>();
    expect(detail.chapters).toHaveLength(1);
    expect(detail.chapters[0]?.title).toBe('Ch');
    expect(detail.chapters[0]?.lessons.map((l) => l.title)).toEqual(['L']);
  });

  it('trims invisible characters at the ends but keeps them inside', async () => {
    const id = await t.draftCourse({ title: '\u200b\ufeff Rust\u200d入门 \u00ad' });
    expect((await course(id, t.instructor)).json()).toMatchObject({ title: 'Rust\u200d入门' });
  });

  it('refuses a blank rejection reason', async () => {
    const draft = await t.draftCourse({ title: 'To reject' });
    const chapter = (
      await t.request('POST', `/api/v1/courses/${draft}/chapters`, {
        as: t.instructor,
        body: { title: 'Ch' },
      })
    ).json<{ id: string }>().id;
    await t.request('POST', `/api/v1/chapters/${chapter}/lessons`, {
      as: t.instructor,
      body: { title: 'L', kind: 'article', body: 'x' },
    });
    expect(
      (await t.request('POST', `/api/v1/courses/${draft}/submit`, { as: t.instructor })).statusCode,
    ).toBe(200);
    const r = await t.request('POST', `/api/v1/courses/${draft}/reject`, {
      as: t.admin,
      body: { reason: '\u200b \u2060' },
    });
    expectBlank(r, '/body/reason');
    expect((await course(draft, t.admin)).json()).toMatchObject({ status: 'in_review' });
  });

  it('accepts only ISO 4217 currencies for prices and the currency filter', async () => {
    const base = { title: 'Priced', level: 'beginner', language: 'en' };
    const id = await t.draftCourse({ title: 'Currency checks' });
    for (const currency of ['XXX', 'ABC', 'XTS']) {
      const created = await t.request('POST', '/api/v1/courses', {
        as: t.instructor,
        body: { ...base, price: { amount: 100, currency } },
      });
      expect(created.statusCode, currency).toBe(400);
      expect(JSON.stringify(created.json().fields)).toContain('/price/currency');
      const patched = await t.request('PATCH', `/api/v1/courses/${id}`, {
        as: t.instructor,
        body: { price: { amount: 100, currency } },
      });
      expect(patched.statusCode, currency).toBe(400);
      const listed = await t.request('GET', `/api/v1/courses?currency=${currency}`);
      expect(listed.statusCode, currency).toBe(400);
      expect(JSON.stringify(listed.json().fields)).toContain('currency');
    }
    expect((await course(id, t.instructor)).json()).toMatchObject({ price: { currency: 'CNY' } });
    const usd = await t.request('PATCH', `/api/v1/courses/${id}`, {
      as: t.instructor,
      body: { price: { amount: 1999, currency: 'USD' } },
    });
    expect(usd.statusCode).toBe(200);
    expect((await t.request('GET', '/api/v1/courses?currency=JPY')).statusCode).toBe(200);
  });
});

describe('invisible names from identity (hardening)', () => {
  it('shows a placeholder, not an invisible name, when identity sends one', async () => {
    const id = randomUUID();
    const who = { id, token: await t.app.tokens.user(id, ['instructor']) };
    const { id: courseId } = await t.publishedCourse({ title: 'Invisible teacher' }, who);
    const eventId = randomUUID();
    await t.app.platform.bus.publish({
      id: eventId,
      type: 'identity.user.profile_updated',
      version: 1,
      occurredAt: new Date().toISOString(),
      aggregateId: id,
      data: { userId: id, displayName: '\u200b\u2060 ', headline: null, bio: null },
    });
    await eventApplied(t.app, 'catalog.instructor-profile-updates', eventId);
    const [shown] = (await course(courseId)).json<{ instructors: { displayName: string }[] }>().instructors;
    expect(shown?.displayName.replace(/[\s\u200b\u2060]/g, '')).not.toBe('');
  });
});
