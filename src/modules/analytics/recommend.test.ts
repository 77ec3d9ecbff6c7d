import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../platform/messaging/test-support.js';
import type { Caller } from '../../../test/helpers/kit.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { EntitlementGrantedEvent } from '../learning/index.js';
import { type AnalyticsTest, startAnalytics } from './analytics.test-support.js';

let t: AnalyticsTest;
let teacher: Caller;
let otherTeacher: Caller;
const courses: Record<string, string> = {};

/** A published course made through the catalog's routes, as an instructor would. */
async function publish(title: string, categoryId: string, as: Caller): Promise<string> {
  const { kit } = t;
  const course = await kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/courses', {
    as,
    body: {
      title,
      price: { amount: 9900, currency: 'CNY' },
      level: 'beginner',
      language: 'zh-CN',
      categoryId,
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
  const programming = await category('programming', '编程');
  const design = await category('design', '设计');
  for (const [title, cat, who] of [
    ['P1', programming, teacher],
    ['P2', programming, teacher],
    ['P3', programming, teacher],
    ['D1', design, teacher],
    ['D2', design, otherTeacher],
  ] as const) {
    courses[title] = await publish(title, cat, who);
  }
  await t.kit.settle();
  // the category is not in catalog's events: analytics.sync-course asks the catalog for it
  await waitFor(
    async () => (await t.count('courses', 'category_id is not null')) === 5,
    'course categories',
    60_000,
  );
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
    expect(await forYou(fresh)).toEqual([
      ['P1', 'popular', 'popular in 编程'],
      ...(
        [
          ['P2', 'popular', 'popular in 编程'],
          ['D2', 'popular', 'popular in 设计'],
        ] as const
      )
        .slice()
        .sort((a, b) => ((courses[a[0]] as string) < (courses[b[0]] as string) ? -1 : 1)),
      ['D1', 'popular', 'popular in 设计'],
      ['P3', 'popular', 'popular in 编程'],
    ]);
  });

  it('mixes co-purchases, same-category courses and popular ones, never an owned course', async () => {
    const learner = await t.kit.caller('learner');
    const orderId = await buy(learner.id, 'P1');
    // P1 now has 4 buyers: P2 2/(4+2-2) = 0.5, D1 1/(4+1-1) = 0.25
    const list = await forYou(learner);
    expect(list).toEqual([
      ['P2', 'co-purchase', 'because you bought P1'],
      ['D1', 'co-purchase', 'because you bought P1'],
      ['P3', 'content', 'more in 编程, like P1'],
      ['D2', 'popular', 'popular in 设计'],
    ]);
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
    expect((await forYou(learner)).map((r) => r[0])).toEqual(['P2', 'D1', 'D2']);

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
