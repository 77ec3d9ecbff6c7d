import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { CourseUpdatedEvent } from '../catalog/index.js';
import { EntitlementGrantedEvent } from '../learning/index.js';
import { type AnalyticsTest, startAnalytics } from './analytics.test-support.js';

let t: AnalyticsTest;
let programming: string;
let teacher: Caller;
let otherTeacher: Caller;
const courses: Record<string, string> = {};

/** A published course made through the catalog's routes, as an instructor would. */
async function publish(title: string, categoryId: string, tags: string[], as: Caller): Promise<string> {
  const { kit } = t;
  const course = await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/courses', {
    as,
    body: {
      title,
      price: { amount: 9900, currency: 'CNY' },
      level: 'beginner',
      language: 'zh-CN',
      categoryId,
      tags,
    },
  });
  const chapter = await kit.expectStatus<{ id: string }>(
    201,
    'POST',
    `/api/v1/courses/${course.id}/chapters`,
    {
      as,
      body: { title: 'One' },
    },
  );
  await kit.expectStatus(201, 'POST', `/api/v1/chapters/${chapter.id}/lessons`, {
    as,
    body: { title: 'L1', kind: 'article', body: 'Text', freePreview: true },
  });
  await kit.expectStatus(200, 'POST', `/api/v1/courses/${course.id}/submit`, { as });
  await kit.expectStatus(200, 'POST', `/api/v1/courses/${course.id}/approve`, { as: t.admin });
  return course.id;
}

async function buy(userId: string, ...titles: string[]): Promise<string> {
  const orderId = randomUUID();
  await t.emit('commerce', OrderPaidEvent, {
    orderId,
    userId,
    lines: titles.map((title) => ({
      courseId: courses[title] as string,
      title,
      amount: 9900,
      instructorIds: [],
    })),
    total: 9900 * titles.length,
    currency: 'CNY',
    provider: 'sandbox',
    paidAt: t.clock().toISOString(),
  });
  return orderId;
}

const scoresOf = async (as: Caller): Promise<Record<string, number>> =>
  Object.fromEntries(
    (
      await t.kit.expectStatus<{ data: { courseId: string; score: number }[] }>(
        200,
        'GET',
        '/api/v1/analytics/recommendations/for-you?limit=10',
        { as },
      )
    ).data.map((r): [string, number] => [
      Object.entries(courses).find(([, id]) => id === r.courseId)?.[0] ?? r.courseId,
      r.score,
    ]),
  );

const forYou = async (as: Caller) =>
  (
    await t.kit.expectStatus<{ data: { courseId: string; reason: string; source: string }[] }>(
      200,
      'GET',
      '/api/v1/analytics/recommendations/for-you?limit=10',
      { as },
    )
  ).data.map((r) => [Object.entries(courses).find(([, id]) => id === r.courseId)?.[0], r.source, r.reason]);

beforeAll(async () => {
  t = await startAnalytics();
  [teacher, otherTeacher] = await Promise.all([t.kit.caller('instructor'), t.kit.caller('instructor')]);
  const category = async (slug: string, name: string) =>
    (
      await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/categories', {
        as: t.admin,
        body: { slug, name },
      })
    ).id;
  programming = await category('programming', '编程');
  const design = await category('design', '设计');
  for (const [title, cat, tags, who] of [
    ['P1', programming, ['python', 'web'], teacher],
    ['P2', programming, ['python'], teacher],
    ['P3', programming, ['web', 'python'], teacher],
    ['P4', programming, [], teacher],
    ['D1', design, ['ui'], teacher],
    ['D2', design, ['ui', 'web'], otherTeacher],
  ] as const) {
    courses[title] = await publish(title, cat, [...tags], who);
  }
  await t.kit.settle();
  // category and tags come with catalog's events: applied with them, nothing asked afterwards
  expect(await t.count('courses', 'category_id is not null')).toBe(6);
  expect(await t.count('course_tags')).toBe(8);
  expect(await t.count('categories')).toBe(2);
  await buy(randomUUID(), 'P1', 'P2');
  await buy(randomUUID(), 'P1', 'P2');
  await buy(randomUUID(), 'P1', 'D1');
  await buy(randomUUID(), 'D2');
  await buy(randomUUID(), 'D2');
}, 120_000);
afterAll(() => t.kit.stop());

describe('recommendations', () => {
  it('gives a learner with nothing the most bought courses, with the category in the reason', async () => {
    const fresh = await t.kit.caller('learner');
    const byId = (rows: (readonly [string, string, string])[]) =>
      rows.slice().sort((a, b) => ((courses[a[0]] as string) < (courses[b[0]] as string) ? -1 : 1));
    expect(await forYou(fresh)).toEqual([
      ['P1', 'popular', 'popular in 编程'],
      ...byId([
        ['P2', 'popular', 'popular in 编程'],
        ['D2', 'popular', 'popular in 设计'],
      ]),
      ['D1', 'popular', 'popular in 设计'],
      ...byId([
        ['P3', 'popular', 'popular in 编程'],
        ['P4', 'popular', 'popular in 编程'],
      ]),
    ]);
  });

  it('mixes co-purchases, content neighbours by category and tags, and popular ones, never an owned course', async () => {
    const learner = await t.kit.caller('learner');
    const orderId = await buy(learner.id, 'P1');
    // P1 now has 4 buyers: P2 2/(4+2-2) = 0.5, D1 1/(4+1-1) = 0.25.
    // Content, P1 = {编程, python, web}: P3 {编程, python, web} 3/3; P4 {编程} 1/3;
    // D2 {设计, ui, web} 1/5 (web only); D1 {设计, ui} shares nothing (and is here already).
    const list = await forYou(learner);
    expect(list).toEqual([
      ['P2', 'co-purchase', 'because you bought P1'],
      ['D1', 'co-purchase', 'because you bought P1'],
      ['P3', 'content', 'more in 编程 tagged python, web, like P1'],
      ['P4', 'content', 'more in 编程, like P1'],
      ['D2', 'content', 'also tagged web, like P1'],
    ]);
    const scores = await scoresOf(learner);
    expect(scores.P3).toBe(1);
    expect(scores.P4).toBeCloseTo(1 / 3, 12);
    expect(scores.D2).toBeCloseTo(1 / 5, 12);
    const also = await t.kit.expectStatus<{ data: { courseId: string; score: number }[] }>(
      200,
      'GET',
      `/api/v1/analytics/courses/${courses.P1}/also-bought`,
    );
    expect(also.data.map((r) => [r.courseId, r.score])).toEqual([
      [courses.P2, 0.5],
      [courses.D1, 0.25],
    ]);

    // a free grant of P3 makes it owned too
    await t.emit('learning', EntitlementGrantedEvent, {
      userId: learner.id,
      courseId: courses.P3 as string,
      source: 'free',
      sourceId: null,
      grantedAt: t.clock().toISOString(),
    });
    expect((await forYou(learner)).map((r) => r[0])).toEqual(['P2', 'D1', 'P4', 'D2']);

    // refunded, P1 is no longer owned, and its co-purchase counts lose this buyer
    await t.emit('commerce', OrderRefundedEvent, {
      orderId,
      userId: learner.id,
      refundId: randomUUID(),
      amount: 9900,
      currency: 'CNY',
      revokedCourseIds: [courses.P1 as string],
      orderStatus: 'refunded',
      refundedAt: t.clock().toISOString(),
    });
    const after = await forYou(learner);
    expect(after.map((r) => r[0])).toContain('P1');
    expect(after.map((r) => r[0])).not.toContain('P3');
    const again = await t.kit.expectStatus<{ data: { courseId: string; score: number }[] }>(
      200,
      'GET',
      `/api/v1/analytics/courses/${courses.P1}/also-bought`,
    );
    expect(again.data.map((r) => r.score)).toEqual([2 / 3, 1 / 3]);
  });

  it('leaves an instructor’s own courses out of their list', async () => {
    expect((await forYou(teacher)).map((r) => r[0])).toEqual(['D2']);
    expect((await forYou(otherTeacher)).map((r) => r[0])).not.toContain('D2');
  });

  it('keeps the newer facts when an older catalog event arrives after them (a redelivery)', async () => {
    const id = courses.P3 as string;
    const facts = async () => ({
      status: (
        await t.db
          .selectFrom('analytics.courses')
          .select('status')
          .where('course_id', '=', id)
          .executeTakeFirst()
      )?.status,
      tags: await t.count('course_tags', `course_id = '${id}'`),
    });
    const before = await facts();
    expect(before).toEqual({ status: 'published', tags: 2 });
    await t.emit(
      'catalog',
      CourseUpdatedEvent,
      {
        courseId: id,
        ownerId: teacher.id,
        status: 'in_review',
        changes: ['tags'],
        priceAmount: 9900,
        currency: 'CNY',
        title: 'P3',
        categoryId: null,
        tags: [],
      },
      new Date('2020-01-01T00:00:00.000Z'),
    );
    expect(await facts()).toEqual(before);
  });

  it('follows the catalog: a change of tags, category or title reaches the neighbours with its event', async () => {
    const learner = await t.kit.caller('learner');
    await t.emit('learning', EntitlementGrantedEvent, {
      userId: learner.id,
      courseId: courses.D1 as string,
      source: 'free',
      sourceId: null,
      grantedAt: t.clock().toISOString(),
    });
    // D1 = {设计, ui}: D2 {设计, ui, web} 2/3; no programming course shares anything
    const content = async () => (await forYou(learner)).filter((r) => r[1] === 'content');
    expect(await content()).toEqual([['D2', 'content', 'more in 设计 tagged ui, like D1']]);

    // P2 gains the tag ui: a neighbour across categories, {编程, ui} against {设计, ui}: 1/3
    await t.kit.expectStatus(200, 'PATCH', `/api/v1/courses/${courses.P2}`, {
      as: teacher,
      body: { tags: ['ui'], title: 'P2 (2nd edition)' },
    });
    await t.kit.settle();
    expect(await content()).toEqual([
      ['D2', 'content', 'more in 设计 tagged ui, like D1'],
      ['P2', 'content', 'also tagged ui, like D1'],
    ]);
    const title = await t.db
      .selectFrom('analytics.courses')
      .select('title')
      .where('course_id', '=', courses.P2 as string)
      .executeTakeFirstOrThrow();
    expect(title.title).toBe('P2 (2nd edition)');

    // D2 leaves its category: {ui, web} against {设计, ui} is 1/3, by the tag alone
    await t.kit.expectStatus(200, 'PATCH', `/api/v1/courses/${courses.D2}`, {
      as: otherTeacher,
      body: { categoryId: null },
    });
    await t.kit.settle();
    const scores = await scoresOf(learner);
    expect(scores.D2).toBeCloseTo(1 / 3, 12);
    expect((await content()).find((r) => r[0] === 'D2')).toEqual([
      'D2',
      'content',
      'also tagged ui, like D1',
    ]);

    // an event written before catalog told category and tags leaves the copy as it is
    await t.emit('catalog', CourseUpdatedEvent, {
      courseId: courses.D2 as string,
      ownerId: otherTeacher.id,
      status: 'published',
      changes: ['cover'],
      priceAmount: 9900,
      currency: 'CNY',
    });
    expect(await t.count('course_tags', `course_id = '${courses.D2}'`)).toBe(2);
    // one naming a category in a form the copy cannot hold is "no category", not a failure
    await t.emit('catalog', CourseUpdatedEvent, {
      courseId: courses.D1 as string,
      ownerId: teacher.id,
      status: 'published',
      changes: ['category', 'tags'],
      priceAmount: 9900,
      currency: 'CNY',
      categoryId: 'not-a-uuid',
      category: { id: 'not-a-uuid', slug: 'x', name: 'x' },
      tags: ['ui'],
    });
    expect(await t.count('courses', `course_id = '${courses.D1}' and category_id is null`)).toBe(1);
    expect(await t.count('categories')).toBe(2);

    // a category renamed in the catalog is renamed in the reasons, with no course event
    await t.kit.expectStatus(200, 'PATCH', `/api/v1/categories/${programming}`, {
      as: t.admin,
      body: { name: '程序设计' },
    });
    await t.kit.settle();
    const fresh = await forYou(await t.kit.caller('learner'));
    expect(fresh.find((r) => r[0] === 'P1')).toEqual(['P1', 'popular', 'popular in 程序设计']);
  });

  it('answers bad input with problem+json', async () => {
    const learner = await t.kit.caller('learner');
    for (const [url, status, as] of [
      ['/api/v1/analytics/recommendations/for-you', 401, undefined],
      ['/api/v1/analytics/recommendations/for-you?limit=0', 400, learner],
      ['/api/v1/analytics/recommendations/for-you?limit=51', 400, learner],
      ['/api/v1/analytics/recommendations/for-you?limit=%00', 400, learner],
      ['/api/v1/analytics/courses/nope/also-bought', 400, undefined],
      [`/api/v1/analytics/courses/${randomUUID()}/also-bought`, 404, undefined],
    ] as const) {
      const answer = await t.kit.request('GET', url, { as });
      expect(answer.statusCode, url).toBe(status);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
  });
});
