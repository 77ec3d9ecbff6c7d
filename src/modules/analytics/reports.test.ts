import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import { CoursePublishedEvent } from '../catalog/index.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { type AnalyticsTest, startAnalytics } from './analytics.test-support.js';

let t: AnalyticsTest;
let t1: Caller;
let t2: Caller;
let learner: Caller;
const courseA = randomUUID();
const courseB = randomUUID();
const TITLE_A = 'Rust, "fast"\nand safe';
const order1 = randomUUID();

async function pay(courseId: string, amount: number, paidAt: string, orderId = randomUUID()) {
  await t.emit('commerce', OrderPaidEvent, {
    orderId,
    userId: randomUUID(),
    lines: [{ courseId, title: 'x', amount, instructorIds: [] }],
    total: amount,
    currency: 'CNY',
    provider: 'sandbox',
    paidAt,
  });
}

beforeAll(async () => {
  t = await startAnalytics({ start: new Date('2026-03-10T20:00:00.000Z') });
  [t1, t2, learner] = await Promise.all([
    t.kit.caller('instructor'),
    t.kit.caller('instructor'),
    t.kit.caller('learner'),
  ]);
  for (const [courseId, title, owner] of [
    [courseA, TITLE_A, t1],
    [courseB, 'Go', t2],
  ] as const) {
    await t.emit('catalog', CoursePublishedEvent, {
      courseId,
      ownerId: owner.id,
      instructorIds: [owner.id],
      title,
      priceAmount: 9900,
      currency: 'CNY',
      publishedAt: '2026-03-01T00:00:00.000Z',
    });
  }
  await pay(courseA, 9900, '2026-03-08T10:00:00.000Z', order1);
  await pay(courseA, 9900, '2026-03-08T11:00:00.000Z');
  await pay(courseB, 5000, '2026-03-08T12:00:00.000Z');
  await t.emit('commerce', OrderRefundedEvent, {
    orderId: order1,
    userId: randomUUID(),
    refundId: randomUUID(),
    amount: 1000,
    currency: 'CNY',
    revokedCourseIds: [],
    orderStatus: 'partially_refunded',
    refundedAt: '2026-03-09T10:00:00.000Z',
  });
  await t.send(
    [
      { id: 'v1', kind: 'course_view', occurredAt: '2026-03-08T09:00:00.000Z', courseId: courseA },
      { id: 'v2', kind: 'course_view', occurredAt: '2026-03-08T09:00:00.000Z', courseId: courseB },
    ],
    learner,
  );
  await t.analytics.services.aggregates.refresh();
}, 60_000);
afterAll(() => t.kit.stop());

const RANGE = 'from=2026-03-07&to=2026-03-10';
type Sales = {
  scope: string;
  data: { day: string; orders: number; revenue: { amount: number }; refunds: { amount: number } }[];
};
const compact = (s: Sales) => s.data.map((p) => [p.day, p.orders, p.revenue.amount, p.refunds.amount]);

describe('reports', () => {
  it('shows an instructor the sales of their own courses only; admins the platform', async () => {
    const mine = await t.kit.expectStatus<Sales>(200, 'GET', `/api/v1/analytics/reports/sales?${RANGE}`, {
      as: t1,
    });
    expect(mine.scope).toBe('instructor');
    expect(compact(mine)).toEqual([
      ['2026-03-08', 2, 19800, 0],
      ['2026-03-09', 0, 0, 1000],
    ]);
    const theirs = await t.kit.expectStatus<Sales>(200, 'GET', `/api/v1/analytics/reports/sales?${RANGE}`, {
      as: t2,
    });
    expect(compact(theirs)).toEqual([['2026-03-08', 1, 5000, 0]]);
    const all = await t.kit.expectStatus<Sales>(200, 'GET', `/api/v1/analytics/reports/sales?${RANGE}`, {
      as: t.admin,
    });
    expect(all.scope).toBe('platform');
    expect(compact(all)).toEqual([
      ['2026-03-08', 3, 24800, 0],
      ['2026-03-09', 0, 0, 1000],
    ]);
  });

  it('answers 404 for another instructor’s course, in every format', async () => {
    for (const format of ['json', 'csv', 'svg']) {
      const answer = await t.kit.request(
        'GET',
        `/api/v1/analytics/reports/sales?${RANGE}&courseId=${courseB}&format=${format}`,
        {
          as: t1,
        },
      );
      expect(answer.statusCode, format).toBe(404);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.body).not.toContain('5000');
    }
    const own = await t.kit.expectStatus<Sales>(
      200,
      'GET',
      `/api/v1/analytics/reports/sales?${RANGE}&courseId=${courseA}`,
      {
        as: t1,
      },
    );
    expect(own.scope).toBe('course');
    const admin = await t.kit.expectStatus<Sales>(
      200,
      'GET',
      `/api/v1/analytics/reports/sales?${RANGE}&courseId=${courseB}`,
      {
        as: t.admin,
      },
    );
    expect(compact(admin)).toEqual([['2026-03-08', 1, 5000, 0]]);
    const top = await t.kit.expectStatus<{ data: { courseId: string }[] }>(
      200,
      'GET',
      `/api/v1/analytics/reports/top-courses?${RANGE}`,
      { as: t2 },
    );
    expect(top.data.map((c) => c.courseId)).toEqual([courseB]);
  });

  it('ranks courses with conversion, and streams them as CSV with quoted text', async () => {
    const top = await t.kit.expectStatus<{ data: Record<string, unknown>[] }>(
      200,
      'GET',
      `/api/v1/analytics/reports/top-courses?${RANGE}&by=revenue`,
      { as: t.admin },
    );
    expect(top.data).toEqual([
      {
        courseId: courseA,
        title: TITLE_A,
        views: 1,
        viewerDays: 1,
        buyers: 2,
        conversion: 2,
        revenue: { amount: 19800, currency: 'CNY' },
        refunds: { amount: 1000, currency: 'CNY' },
      },
      expect.objectContaining({ courseId: courseB, buyers: 1, revenue: { amount: 5000, currency: 'CNY' } }),
    ]);
    const csv = await t.kit.request('GET', `/api/v1/analytics/reports/top-courses?${RANGE}&format=csv`, {
      as: t1,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.body).toBe(
      'courseId,title,views,viewerDays,buyers,conversion,revenue,refunds\r\n' +
        `${courseA},"Rust, ""fast""\nand safe",1,1,2,2,19800,1000\r\n`,
    );
  });

  it('streams the sales series as CSV and draws it as SVG', async () => {
    const csv = await t.kit.request('GET', `/api/v1/analytics/reports/sales?${RANGE}&format=csv`, {
      as: t.admin,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="sales-2026-03-07-2026-03-10.csv"');
    expect(csv.body).toBe(
      'day,currency,orders,revenue_minor_units,refunds_minor_units\r\n' +
        '2026-03-08,CNY,3,24800,0\r\n2026-03-09,CNY,0,0,1000\r\n',
    );
    const svg = await t.kit.request('GET', `/api/v1/analytics/reports/sales?${RANGE}&format=svg`, { as: t1 });
    expect(svg.statusCode).toBe(200);
    expect(svg.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(svg.body.startsWith('<svg')).toBe(true);
    expect(svg.body).toContain('revenue CNY');
    expect(svg.body).toContain('<path');
  });

  it('gives admins engagement with DAU, WAU and MAU, as JSON, CSV and SVG; not instructors', async () => {
    const data = await t.kit.expectStatus<{ data: { day: string; dau: number; wau: number; mau: number }[] }>(
      200,
      'GET',
      `/api/v1/admin/analytics/engagement?${RANGE}`,
      { as: t.admin },
    );
    expect(data.data.map((d) => d.day)).toEqual(['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10']);
    // 2026-03-08: the learner and three buyers; 03-09: nobody new (the refund is done to its user)
    expect(data.data.map((d) => [d.dau, d.wau, d.mau])).toEqual([
      [0, 0, 0],
      [4, 4, 4],
      [0, 4, 4],
      [0, 4, 4],
    ]);
    const svg = await t.kit.request('GET', `/api/v1/admin/analytics/engagement?${RANGE}&format=svg`, {
      as: t.admin,
    });
    expect(svg.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(svg.body).toContain('MAU');
    const csv = await t.kit.request('GET', `/api/v1/admin/analytics/engagement?${RANGE}&format=csv`, {
      as: t.admin,
    });
    expect(csv.body.split('\r\n')[0]).toBe(
      'day,newUsers,dau,wau,mau,courseViews,learningMinutes,enrolments,completions,searches,searchesWithoutResults',
    );
    expect(
      (await t.kit.request('GET', `/api/v1/admin/analytics/engagement?${RANGE}`, { as: t1 })).statusCode,
    ).toBe(403);
  });

  it('refuses bad ranges and callers with problem+json', async () => {
    const cases: [string, number, Caller | undefined, string?][] = [
      ['/api/v1/analytics/reports/sales?from=2026-03-10&to=2026-03-01', 400, t1, 'analytics.bad-range'],
      ['/api/v1/analytics/reports/sales?from=2024-01-01&to=2026-03-01', 400, t1, 'analytics.bad-range'],
      ['/api/v1/analytics/reports/sales?from=2026-02-30&to=2026-03-01', 400, t1],
      ['/api/v1/analytics/reports/sales?from=yesterday&to=2026-03-01', 400, t1],
      ['/api/v1/analytics/reports/sales?from=2026-03-01%00&to=2026-03-02', 400, t1],
      ['/api/v1/analytics/reports/sales?to=2026-03-02', 400, t1],
      [`/api/v1/analytics/reports/sales?${RANGE}&courseId=not-a-uuid`, 400, t1],
      [`/api/v1/analytics/reports/sales?${RANGE}&format=pdf`, 400, t1],
      [`/api/v1/analytics/reports/sales?${RANGE}`, 403, learner],
      [`/api/v1/analytics/reports/sales?${RANGE}`, 401, undefined],
      [`/api/v1/analytics/reports/top-courses?${RANGE}&limit=1000`, 400, t1],
      [`/api/v1/analytics/reports/top-courses?${RANGE}&currency=cny`, 400, t1],
      [`/api/v1/admin/analytics/search-misses?${RANGE}&limit=-1`, 400, t.admin],
    ];
    for (const [url, status, as, code] of cases) {
      const answer = await t.kit.request('GET', url, { as });
      expect(answer.statusCode, url).toBe(status);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      if (code) expect(answer.json()).toMatchObject({ code });
    }
  });
});
