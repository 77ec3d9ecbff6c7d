import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import { exportPartOf } from '../../../test/helpers/personal-data.js';
import type { ExportPart } from '../../platform/personal-data.js';
import { CommentCreatedEvent } from '../community/index.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { UserRegisteredEvent } from '../identity/index.js';
import { EntitlementGrantedEvent } from '../learning/index.js';
import { type AnalyticsTest, startAnalytics } from './analytics.test-support.js';
import { redactUrl } from './url-redaction.js';

// the analytics kit already runs an outbox named 'identity', which exportPartOf publishes through
let t: AnalyticsTest;
let a: Caller;
let b: Caller;
let part: ExportPart;

const NOW = new Date('2026-03-10T12:00:00.000Z');
const YESTERDAY = '2026-03-09T10:00:00.000Z';
const TODAY = '2026-03-10T09:00:00.000Z';
const A_DEVICE = 'device-a-7f3k29x';
const B_DEVICE = 'device-b-q81mz0p';
// what only B wrote or owns: none of it may reach A's part
const B_SEARCH = 'b-only-query-zebra';
const B_EMAIL = 'bob.private@example.com';
const B_NAME = 'Bob Private';
const bOrder = randomUUID();
const bEventId = 'b-event-1';
// courses: A buys X and Y (taught by B) and refunds Y, enrols free in F, and teaches T, which B buys
const courseX = randomUUID();
const courseY = randomUUID();
const courseF = randomUUID();
const courseT = randomUUID();
const aOrder = randomUUID();
const aComment = randomUUID();
const lesson = randomUUID();

const postEvents = (as: Caller | undefined, clientId: string, events: unknown[]) =>
  t.kit.expectStatus(202, 'POST', '/api/v1/analytics/events', {
    ...(as ? { as } : {}),
    body: { events },
    headers: { 'x-client-id': clientId },
  });

type Item = Record<string, unknown> & { properties: Record<string, unknown> };
const events = (p: ExportPart) => p.data.events as Item[];
const eventOf = (p: ExportPart, kind: string) => events(p).find((e) => e.kind === kind);

beforeAll(async () => {
  t = await startAnalytics({ start: NOW });
  [a, b] = await Promise.all([t.kit.caller('learner', 'instructor'), t.kit.caller('learner')]);

  // before signing in, A's browser sent an anonymous view: not known to be A's, so not in the part
  await postEvents(undefined, A_DEVICE, [
    { id: 'anon-1', kind: 'page_view', occurredAt: YESTERDAY, path: '/anonymous-landing' },
  ]);
  await postEvents(a, A_DEVICE, [
    {
      id: 'a-1',
      kind: 'lesson_pause',
      occurredAt: YESTERDAY,
      courseId: courseX,
      lessonId: lesson,
      positionSeconds: 640,
      watchedSeconds: 600,
    },
    { id: 'a-2', kind: 'share', occurredAt: YESTERDAY, courseId: courseX, channel: 'wechat' },
    { id: 'a-3', kind: 'search', occurredAt: TODAY, query: 'kotlin coroutines', resultCount: 4 },
    {
      id: 'a-4',
      kind: 'page_view',
      occurredAt: TODAY,
      path: '/reset-password?token=SECRET-TOKEN-123&next=%2Fhome',
      referrer: 'https://mail.example.com/inbox#access_token=SECRET-FRAG-456&lang=zh',
    },
  ]);
  await postEvents(b, B_DEVICE, [
    { id: bEventId, kind: 'search', occurredAt: TODAY, query: B_SEARCH, resultCount: 0 },
    { id: 'b-event-2', kind: 'course_view', occurredAt: TODAY, courseId: courseT },
  ]);

  const at = new Date(TODAY);
  await t.emit(
    'identity',
    UserRegisteredEvent,
    { userId: a.id, email: 'alice@example.com', displayName: 'Alice' },
    at,
  );
  await t.emit('identity', UserRegisteredEvent, { userId: b.id, email: B_EMAIL, displayName: B_NAME }, at);
  await t.emit('commerce', OrderPaidEvent, {
    orderId: aOrder,
    userId: a.id,
    lines: [
      { courseId: courseX, title: 'Course X', amount: 9900, instructorIds: [b.id] },
      { courseId: courseY, title: 'Course Y', amount: 4950, instructorIds: [b.id] },
    ],
    total: 14850,
    currency: 'CNY',
    provider: 'alipay',
    paidAt: TODAY,
  });
  await t.emit('commerce', OrderRefundedEvent, {
    orderId: aOrder,
    userId: a.id,
    refundId: randomUUID(),
    amount: 4950,
    currency: 'CNY',
    revokedCourseIds: [courseY],
    orderStatus: 'partially_refunded',
    refundedAt: '2026-03-10T09:30:00.000Z',
  });
  await t.emit('commerce', OrderPaidEvent, {
    orderId: bOrder,
    userId: b.id,
    lines: [{ courseId: courseT, title: 'Course T', amount: 5000, instructorIds: [a.id] }],
    total: 5000,
    currency: 'CNY',
    provider: 'wechatpay',
    paidAt: TODAY,
  });
  await t.emit('learning', EntitlementGrantedEvent, {
    userId: a.id,
    courseId: courseF,
    source: 'free',
    sourceId: null,
    grantedAt: TODAY,
  });
  await t.emit('community', CommentCreatedEvent, {
    commentId: aComment,
    lessonId: lesson,
    courseId: courseX,
    parentId: null,
    authorId: a.id,
    byInstructor: false,
    status: 'visible',
    mentionedUserIds: [b.id],
    createdAt: TODAY,
  });
  await t.analytics.services.aggregates.refresh();
  await t.analytics.services.scores.recompute('2026-03-10');

  part = await exportPartOf(t.kit, a.id, 'analytics');
}, 120_000);
afterAll(() => t.kit.stop());

describe("analytics' part of a personal-data export", () => {
  it('holds every behaviour event recorded as the user, with times, ids and properties', () => {
    expect(part.module).toBe('analytics');
    expect(part.generatedAt).toBe(NOW.toISOString());
    const listed = events(part).map((e) => [e.occurredAt, e.source, e.kind] as string[]);
    // oldest first; domain events of one instant follow their envelope ids, so compare those sorted
    expect(listed.map((e) => e[0])).toEqual(listed.map((e) => e[0]).sort());
    expect(listed.slice().sort()).toEqual([
      [YESTERDAY, 'client', 'lesson_pause'],
      [YESTERDAY, 'client', 'share'],
      [TODAY, 'client', 'page_view'],
      [TODAY, 'client', 'search'],
      [TODAY, 'domain', 'comment_created'],
      [TODAY, 'domain', 'enrolment'],
      [TODAY, 'domain', 'order_paid'],
      [TODAY, 'domain', 'user_registered'],
      ['2026-03-10T09:30:00.000Z', 'domain', 'order_refunded'],
    ]);
    expect(eventOf(part, 'lesson_pause')).toMatchObject({
      eventId: 'a-1',
      courseId: courseX,
      lessonId: lesson,
      clientId: 'devi…9x',
      properties: { positionSeconds: 640, watchedSeconds: 600 },
    });
    expect(eventOf(part, 'search')?.properties).toEqual({ query: 'kotlin coroutines', resultCount: 4 });
    // the address and name are not kept (identity's part has them, and closing the account erases them)
    expect(eventOf(part, 'user_registered')?.properties).toEqual({ userId: a.id });
    expect(eventOf(part, 'order_paid')?.properties).toEqual({
      orderId: aOrder,
      userId: a.id,
      lines: [
        { courseId: courseX, title: 'Course X', amount: 9900 },
        { courseId: courseY, title: 'Course Y', amount: 4950 },
      ],
      total: 14850,
      currency: 'CNY',
      provider: 'alipay',
      paidAt: TODAY,
    });
    expect(eventOf(part, 'comment_created')).toMatchObject({
      courseId: courseX,
      lessonId: lesson,
      clientId: null,
      properties: { commentId: aComment, authorId: a.id, status: 'visible' },
    });
    expect(eventOf(part, 'comment_created')?.properties).not.toHaveProperty('mentionedUserIds');
  });

  it('keeps credential-like URL parameters out of page views and leaves an anonymous device history out', () => {
    expect(eventOf(part, 'page_view')?.properties).toEqual({
      path: '/reset-password?token=[redacted]&next=%2Fhome',
      referrer: 'https://mail.example.com/inbox#access_token=[redacted]&lang=zh',
    });
    const text = JSON.stringify(part);
    for (const secret of ['SECRET-TOKEN-123', 'SECRET-FRAG-456', A_DEVICE, '/anonymous-landing', 'anon-1'])
      expect(text).not.toContain(secret);
  });

  it('holds active days, daily learning, the activity score and the recommendation data', () => {
    expect(part.data.activeDays).toEqual(['2026-03-09', '2026-03-10']);
    expect(part.data.dailyActivity).toEqual([
      { day: '2026-03-09', learningSeconds: 600, interactions: 1 },
      { day: '2026-03-10', learningSeconds: 0, interactions: 1 },
    ]);
    const score = part.data.activityScore as Record<string, unknown> & { components: Record<string, number> };
    expect(score).toMatchObject({
      windowEnd: '2026-03-10',
      rank: 1,
      activeDays: 2,
      learningMinutes: 10,
      interactions: 2,
    });
    expect(score.components.a).toBeCloseTo(2 / 30, 12);
    expect(score.components.b).toBeCloseTo(10 / 600, 12);
    expect(score.components.c).toBeCloseTo(2 / 20, 12);
    expect(score.score).toBeCloseTo((2 / 30) * (10 / 600) * (2 / 20), 12);

    const byCourse = (rows: { courseId: string }[]) => rows.map((r) => r.courseId).sort();
    expect(
      (part.data.orderLines as { courseId: string }[])
        .slice()
        .sort((x, y) => (x.courseId < y.courseId ? -1 : 1)),
    ).toEqual(
      [
        { orderId: aOrder, courseId: courseX, amount: 9900, currency: 'CNY', paidAt: TODAY },
        { orderId: aOrder, courseId: courseY, amount: 4950, currency: 'CNY', paidAt: TODAY },
      ].sort((x, y) => (x.courseId < y.courseId ? -1 : 1)),
    );
    // the refund took Y out of what A bought and owns; the free enrolment is owned, not bought
    expect(byCourse(part.data.purchasedCourses as { courseId: string }[])).toEqual([courseX]);
    expect(byCourse(part.data.ownedCourses as { courseId: string }[])).toEqual([courseF, courseX].sort());
    // A teaches T (from B's paid order line): the course and A's sales of it, not who bought it
    expect(part.data.teachingCourses).toEqual([{ courseId: courseT }]);
    expect(part.data.instructorSales).toEqual([
      { day: '2026-03-10', currency: 'CNY', orders: 1, revenue: 5000, refunds: 0 },
    ]);
  });

  it('holds nothing of another user and no secret', () => {
    const text = JSON.stringify(part);
    for (const other of [b.id, bOrder, bEventId, 'b-event-2', B_SEARCH, B_EMAIL, B_NAME, B_DEVICE])
      expect(text).not.toContain(other);
    const keys: string[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object' && v !== null)
        for (const [k, inner] of Object.entries(v)) {
          keys.push(k);
          walk(inner);
        }
    };
    walk(part.data);
    expect(
      keys.filter((k) => /password|hash|secret|token|credential|signing|instructorIds|mentioned/i.test(k)),
    ).toEqual([]);
    // the checks above look at a part that does hold A's own ids and texts
    expect(text).toContain(a.id);
    expect(text).toContain('kotlin coroutines');
  });

  it('pages a long event history in full, in order, with ties on the time broken by the event id', async () => {
    const heavy = await t.kit.caller('learner');
    // 1,200 events at one instant: the first page of 1,000 ends inside the tie
    for (let batch = 0; batch < 3; batch++) {
      await postEvents(
        heavy,
        'device-heavy-01',
        Array.from({ length: 400 }, (_, i) => ({
          id: `h-${String(batch * 400 + i).padStart(4, '0')}`,
          kind: 'course_view',
          occurredAt: TODAY,
          courseId: courseX,
        })),
      );
    }
    const heavyPart = await exportPartOf(t.kit, heavy.id, 'analytics');
    const ids = events(heavyPart).map((e) => e.eventId);
    expect(ids).toHaveLength(1200);
    expect(ids).toEqual(Array.from({ length: 1200 }, (_, i) => `h-${String(i).padStart(4, '0')}`));
  });

  it('gives a user analytics knows nothing of a part with empty sections', async () => {
    const nobody = await t.kit.caller('learner');
    const empty = await exportPartOf(t.kit, nobody.id, 'analytics');
    expect(empty).toEqual({
      module: 'analytics',
      generatedAt: NOW.toISOString(),
      data: {
        events: [],
        activeDays: [],
        dailyActivity: [],
        activityScore: null,
        orderLines: [],
        purchasedCourses: [],
        ownedCourses: [],
        teachingCourses: [],
        instructorSales: [],
      },
    });
  });
});

describe('redactUrl', () => {
  it('replaces the values of credential-like parameters and keeps the rest as written', () => {
    expect(redactUrl('/courses?q=python&page=2')).toBe('/courses?q=python&page=2');
    expect(redactUrl('/cb?code=abc&state=xyz&lang=zh')).toBe('/cb?code=[redacted]&state=[redacted]&lang=zh');
    expect(redactUrl('/x?api_key=1&keyword=rust&sessionId=9')).toBe(
      '/x?api_key=[redacted]&keyword=rust&sessionId=[redacted]',
    );
    expect(redactUrl('/docs#section-2')).toBe('/docs#section-2');
    expect(redactUrl('/a?%74oken=1')).toBe('/a?%74oken=[redacted]');
  });
});
