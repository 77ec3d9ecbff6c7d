import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { UserRegisteredEvent } from '../identity/index.js';
import { CourseCompletedEvent, EntitlementGrantedEvent, LessonCompletedEvent } from '../learning/index.js';
import { type AnalyticsTest, startAnalytics } from './analytics.test-support.js';

let t: AnalyticsTest;
beforeAll(async () => {
  t = await startAnalytics({
    start: new Date('2026-03-10T20:00:00.000Z'),
    settings: {
      ANALYTICS_SCORE_WINDOW_DAYS: 4,
      ANALYTICS_SCORE_MINUTES_CAP: 60,
      ANALYTICS_SCORE_INTERACTIONS_CAP: 4,
    },
  });
}, 60_000);
afterAll(() => t.kit.stop());

const DAYS = ['2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10'] as const;
const on = (day: string, hour = 10) => `${day}T${String(hour).padStart(2, '0')}:00:00.000Z`;
let seq = 0;
// users of the aggregates below, who also have a score in the window
const buyer1 = randomUUID();
const buyer2 = randomUUID();
let viewer: Caller;
const id = () => `ev-${++seq}`;

const AGGREGATES = [
  'daily_actives',
  'daily_user_activity',
  'daily_platform',
  'daily_revenue',
  'daily_course',
  'daily_course_sales',
  'daily_instructor_sales',
  'daily_search_misses',
];

/** Every aggregate row, as text, in a stable order. */
async function snapshot(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of AGGREGATES) {
    const rows = await sql<{ r: string }>`
      select t::text as r from ${sql.table(`analytics.${table}`)} t order by 1`.execute(
      t.kit.app.platform.database.db,
    );
    out[table] = rows.rows.map((x) => x.r);
  }
  return out;
}

async function one<T>(query: ReturnType<typeof sql<T>>): Promise<T> {
  const rows = await query.execute(t.kit.app.platform.database.db);
  if (!rows.rows[0]) throw new Error('no row');
  return rows.rows[0];
}

describe('daily aggregates', () => {
  const courseA = randomUUID();
  const courseB = randomUUID();
  const teacherA = randomUUID();
  const teacherB = randomUUID();
  const order1 = randomUUID();
  const order2 = randomUUID();
  beforeAll(async () => {
    viewer = await t.kit.caller('learner');
    const anon = { clientId: `anon-${randomUUID()}` };
    // day 0: two views of A (one anonymous), one of B, a search without results, learning time
    expect(
      (
        await t.send(
          [
            { id: id(), kind: 'course_view', occurredAt: on(DAYS[0]), courseId: courseA },
            { id: id(), kind: 'course_view', occurredAt: on(DAYS[0]), courseId: courseB },
            { id: id(), kind: 'search', occurredAt: on(DAYS[0]), query: '  Rust ', resultCount: 0 },
            { id: id(), kind: 'search', occurredAt: on(DAYS[0]), query: 'rust', resultCount: 0 },
            { id: id(), kind: 'search', occurredAt: on(DAYS[0]), query: 'go', resultCount: 3 },
            {
              id: id(),
              kind: 'lesson_pause',
              occurredAt: on(DAYS[0]),
              courseId: courseA,
              lessonId: randomUUID(),
              positionSeconds: 600,
              watchedSeconds: 600,
            },
          ],
          viewer,
        )
      ).statusCode,
    ).toBe(202);
    await t.send([{ id: id(), kind: 'course_view', occurredAt: on(DAYS[0]), courseId: courseA }], anon);
    await t.emit('identity', UserRegisteredEvent, {
      userId: buyer1,
      email: 'b1@example.com',
      displayName: 'B1',
    });
    // day 0: order 1 buys A (6000) and B (3900); day 1: order 2 buys A (6000) in USD
    await t.emit('commerce', OrderPaidEvent, {
      orderId: order1,
      userId: buyer1,
      lines: [
        { courseId: courseA, title: 'A', amount: 6000, instructorIds: [teacherA] },
        { courseId: courseB, title: 'B', amount: 3900, instructorIds: [teacherA, teacherB] },
      ],
      total: 9900,
      currency: 'CNY',
      provider: 'sandbox',
      paidAt: on(DAYS[0], 11),
    });
    await t.emit('commerce', OrderPaidEvent, {
      orderId: order2,
      userId: buyer2,
      lines: [{ courseId: courseA, title: 'A', amount: 6000, instructorIds: [teacherA] }],
      total: 6000,
      currency: 'USD',
      provider: 'card',
      paidAt: on(DAYS[1], 9),
    });
    await t.emit('learning', EntitlementGrantedEvent, {
      userId: buyer1,
      courseId: courseA,
      source: 'order',
      sourceId: order1,
      grantedAt: on(DAYS[0], 11),
    });
    await t.emit('learning', CourseCompletedEvent, {
      userId: buyer1,
      courseId: courseA,
      completedAt: on(DAYS[1], 15),
    });
    // day 2: a partial refund of order 1 naming no course, split 6000:3900 over its lines
    await t.emit('commerce', OrderRefundedEvent, {
      orderId: order1,
      userId: buyer1,
      refundId: randomUUID(),
      amount: 5000,
      currency: 'CNY',
      revokedCourseIds: [],
      orderStatus: 'partially_refunded',
      refundedAt: on(DAYS[2], 8),
    });
  }, 60_000);

  it('refreshes the days that have new events, with the figures of those events', async () => {
    const done = await t.analytics.services.aggregates.refresh();
    expect(done).toEqual(expect.arrayContaining([DAYS[0], DAYS[1], DAYS[2]]));
    expect(await t.count('dirty_days')).toBe(0);

    expect(
      await one(
        sql`select orders, revenue::int, refunds::int from analytics.daily_revenue where day = ${DAYS[0]} and currency = 'CNY'`,
      ),
    ).toEqual({ orders: 1, revenue: 9900, refunds: 0 });
    expect(
      await one(
        sql`select orders, revenue::int from analytics.daily_revenue where day = ${DAYS[1]} and currency = 'USD'`,
      ),
    ).toEqual({ orders: 1, revenue: 6000 });
    // 5000 × 6000/9900 = 3030.3 and 5000 × 3900/9900 = 1969.7: floors 3030 + 1969, the 1 left to the first line
    const refunds = await sql<{ course_id: string; refunds: string }>`
      select course_id, refunds from analytics.daily_course_sales where day = ${DAYS[2]} order by course_id`.execute(
      t.kit.app.platform.database.db,
    );
    const first = [courseA, courseB].sort()[0];
    expect(Object.fromEntries(refunds.rows.map((r) => [r.course_id, Number(r.refunds)]))).toEqual({
      [courseA]: first === courseA ? 3031 : 3030,
      [courseB]: first === courseB ? 1970 : 1969,
    });
    // co-taught B counts for both its instructors
    const teachers = await sql<{ instructor_id: string; revenue: string }>`
      select instructor_id, revenue from analytics.daily_instructor_sales where day = ${DAYS[0]}`.execute(
      t.kit.app.platform.database.db,
    );
    expect(Object.fromEntries(teachers.rows.map((r) => [r.instructor_id, Number(r.revenue)]))).toEqual({
      [teacherA]: 9900,
      [teacherB]: 3900,
    });
    // conversion inputs: A viewed twice by two actors and bought once that day
    expect(
      await one(
        sql`select views, viewers, buyers, enrolments, learning_seconds::int from analytics.daily_course where day = ${DAYS[0]} and course_id = ${courseA}`,
      ),
    ).toEqual({ views: 2, viewers: 2, buyers: 1, enrolments: 1, learning_seconds: 600 });
    const platform = await one(
      sql`select dau, course_views, learning_seconds::int, searches, searches_without_results, enrolments, new_users from analytics.daily_platform where day = ${DAYS[0]}`,
    );
    // the registration's day is the envelope's (written now), so new_users is checked over all days below
    expect(platform).toMatchObject({
      dau: 3,
      course_views: 3,
      learning_seconds: 600,
      searches: 3,
      searches_without_results: 2,
      enrolments: 1,
    });
    expect(
      Number((await one(sql<{ n: string }>`select sum(new_users) as n from analytics.daily_platform`)).n),
    ).toBe(1);
    expect(await one(sql`select completions from analytics.daily_platform where day = ${DAYS[1]}`)).toEqual({
      completions: 1,
    });
    expect(
      await one(sql`select term, searches from analytics.daily_search_misses where day = ${DAYS[0]}`),
    ).toEqual({ term: 'rust', searches: 2 });
  });

  it('equals a recomputation from scratch, also after late events and a second refresh', async () => {
    // a late event for day 0 marks only that day again
    await t.send([{ id: id(), kind: 'course_view', occurredAt: on(DAYS[0], 23), courseId: courseB }], viewer);
    await t.emit('learning', LessonCompletedEvent, {
      userId: viewer.id,
      courseId: courseB,
      lessonId: randomUUID(),
      completedAt: on(DAYS[1], 7),
    });
    expect((await t.analytics.services.aggregates.refresh()).sort()).toEqual([DAYS[0], DAYS[1]]);
    expect(await t.analytics.services.aggregates.refresh()).toEqual([]);
    const incremental = await snapshot();
    expect(incremental.daily_course_sales?.length).toBeGreaterThan(0);

    for (const table of AGGREGATES)
      await sql`delete from ${sql.table(`analytics.${table}`)}`.execute(t.kit.app.platform.database.db);
    await t.analytics.services.aggregates.rebuild();
    expect(await snapshot()).toEqual(incremental);
    // and rebuilding one day twice changes nothing
    await t.analytics.services.aggregates.rebuild([DAYS[0]]);
    expect(await snapshot()).toEqual(incremental);

    // an admin asks the worker to rebuild a day: the job recomputes it from raw events
    await sql`delete from analytics.daily_platform where day = ${DAYS[0]}`.execute(
      t.kit.app.platform.database.db,
    );
    const queued = await t.kit.expectStatus<{ jobId: string }>(
      202,
      'POST',
      '/api/v1/admin/analytics/rebuild',
      {
        as: t.admin,
        body: { days: [DAYS[0]] },
      },
    );
    expect(queued.jobId).toEqual(expect.any(String));
    await waitFor(
      async () => (await t.count('daily_platform', `day = '${DAYS[0]}'`)) === 1,
      'the rebuild job',
      60_000,
    );
    expect(await snapshot()).toEqual(incremental);
    for (const [body, status, as] of [
      [{ days: ['2026-02-30'] }, 400, t.admin],
      [{ days: ['x'] }, 400, t.admin],
      [{ days: [] }, 400, t.admin],
      [{ everything: true }, 400, t.admin],
      [{}, 403, viewer],
    ] as const) {
      const answer = await t.kit.request('POST', '/api/v1/admin/analytics/rebuild', { as, body });
      expect(answer.statusCode, JSON.stringify(body)).toBe(status);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('lists the searches that found nothing for admins', async () => {
    const misses = await t.kit.expectStatus<{ data: unknown[] }>(
      200,
      'GET',
      `/api/v1/admin/analytics/search-misses?from=${DAYS[0]}&to=${DAYS[3]}`,
      { as: t.admin },
    );
    expect(misses.data).toEqual([{ term: 'rust', searches: 2 }]);
  });
});

describe('activity score', () => {
  // window: 4 days to 2026-03-10; B caps at 60 minutes, C at 4 interactions
  const pause = (day: string, seconds: number) => ({
    id: id(),
    kind: 'lesson_pause',
    occurredAt: on(day, 12),
    courseId: randomUUID(),
    lessonId: randomUUID(),
    positionSeconds: seconds,
    watchedSeconds: seconds,
  });
  const share = (day: string) => ({
    id: id(),
    kind: 'share',
    occurredAt: on(day, 13),
    courseId: randomUUID(),
    channel: 'link',
  });
  const view = (day: string) => ({ id: id(), kind: 'page_view', occurredAt: on(day, 14), path: '/' });
  let users: Record<'u1' | 'u2' | 'u3' | 'u4' | 'u5', Caller>;

  beforeAll(async () => {
    const [u1, u2, u3, u4, u5] = await Promise.all(Array.from({ length: 5 }, () => t.kit.caller('learner')));
    if (!u1 || !u2 || !u3 || !u4 || !u5) throw new Error('callers');
    users = { u1, u2, u3, u4, u5 };
    const batches: [Caller, unknown[]][] = [
      // every day, 15 minutes and one share: A = 1, B = 60/60, C = 4/4
      [u1, DAYS.flatMap((d) => [pause(d, 900), share(d)])],
      // two days, 30 minutes, two shares: 0.5 · 0.5 · 0.5
      [u2, [DAYS[0], DAYS[1]].flatMap((d) => [pause(d, 900), share(d)])],
      // the same on two other days: a tie with u2
      [u3, [DAYS[2], DAYS[3]].flatMap((d) => [pause(d, 900), share(d)])],
      // one day in the window, 120 minutes (capped), one share; a day before the window does not count
      [u4, [pause(DAYS[3], 7200), share(DAYS[3]), view('2026-03-06')]],
      // shares but no learning: B = 0, so S = 0
      [u5, [share(DAYS[1]), share(DAYS[1]), share(DAYS[1])]],
    ];
    for (const [who, events] of batches) expect((await t.send(events, who)).statusCode).toBe(202);
    await t.analytics.services.aggregates.refresh();
    await t.analytics.services.scores.recompute('2026-03-10');
  }, 60_000);

  it('matches the hand-computed table, ties sharing a rank', async () => {
    const rows = await sql<{ user_id: string; a: number; b: number; c: number; score: number; rank: number }>`
      select user_id, a, b, c, score, rank from analytics.scores where user_id = any(${Object.values(users).map((u) => u.id)}::uuid[])`.execute(
      t.kit.app.platform.database.db,
    );
    const got = Object.fromEntries(
      Object.entries(users).map(([name, u]) => {
        const r = rows.rows.find((x) => x.user_id === u.id);
        return [name, r && { a: r.a, b: r.b, c: r.c, s: r.score }];
      }),
    );
    expect(got).toEqual({
      u1: { a: 1, b: 1, c: 1, s: 1 },
      u2: { a: 0.5, b: 0.5, c: 0.5, s: 0.125 },
      u3: { a: 0.5, b: 0.5, c: 0.5, s: 0.125 },
      u4: { a: 0.25, b: 1, c: 0.25, s: 0.0625 },
      u5: { a: 0.25, b: 0, c: 0.75, s: 0 },
    });
    // every user with activity in the window, by hand: u1–u5 above, and the users of the
    // aggregates: viewer (days 0 and 1, 10 minutes, 1 lesson completion), buyer1 (days 0 and 1,
    // no learning, 1 course completion), buyer2 (day 1 only)
    const all = await sql<{ user_id: string; a: number; b: number; c: number; score: number; rank: number }>`
      select user_id, a, b, c, score, rank from analytics.scores`.execute(t.kit.app.platform.database.db);
    const name = new Map<string, string>([
      ...Object.entries(users).map(([n, u]) => [u.id, n] as [string, string]),
      [viewer.id, 'viewer'],
      [buyer1, 'buyer1'],
      [buyer2, 'buyer2'],
    ]);
    expect(Object.fromEntries(all.rows.map((r) => [name.get(r.user_id) ?? r.user_id, r.rank]))).toEqual({
      u1: 1,
      u2: 2,
      u3: 2,
      u4: 4,
      viewer: 5,
      u5: 6,
      buyer1: 6,
      buyer2: 6,
    });
    const v = all.rows.find((r) => r.user_id === viewer.id);
    expect(v?.a).toBe(0.5);
    expect(v?.b).toBeCloseTo(10 / 60, 12);
    expect(v?.c).toBe(0.25);
    expect(v?.score).toBeCloseTo(0.5 * (10 / 60) * 0.25, 12);
    expect(all.rows.find((r) => r.user_id === buyer1)).toMatchObject({ a: 0.5, b: 0, c: 0.25, score: 0 });
    expect(all.rows.find((r) => r.user_id === buyer2)).toMatchObject({ a: 0.25, b: 0, c: 0, score: 0 });

    const top = await t.kit.expectStatus<{ data: { userId: string; rank: number; score: number }[] }>(
      200,
      'GET',
      '/api/v1/admin/analytics/activity/top?limit=4',
      { as: t.admin },
    );
    const tied = [users.u2.id, users.u3.id].sort();
    expect(top.data.map((r) => [r.userId, r.rank])).toEqual([
      [users.u1.id, 1],
      [tied[0], 2],
      [tied[1], 2],
      [users.u4.id, 4],
    ]);
  });

  it('shows a user their own score with its components; others get 404, admins may read it', async () => {
    const own = await t.kit.expectStatus<{ score: Record<string, unknown> }>(
      200,
      'GET',
      `/api/v1/analytics/users/${users.u4.id}/score`,
      { as: users.u4 },
    );
    expect(own.score).toEqual({
      userId: users.u4.id,
      windowEnd: '2026-03-10',
      score: 0.0625,
      rank: 4,
      components: {
        a: { value: 0.25, activeDays: 1 },
        b: { value: 1, learningMinutes: 120 },
        c: { value: 0.25, interactions: 1 },
      },
    });
    expect(await t.analytics.api.activityOf(users.u4.id)).toEqual({ score: 0.0625, rank: 4 });
    expect(await t.analytics.api.activityOf('not-a-uuid')).toBeUndefined();
    await t.kit.expectStatus(404, 'GET', `/api/v1/analytics/users/${users.u4.id}/score`, { as: users.u1 });
    await t.kit.expectStatus(200, 'GET', `/api/v1/analytics/users/${users.u4.id}/score`, { as: t.admin });
    const nobody = await t.kit.expectStatus<{ score: unknown }>(
      200,
      'GET',
      `/api/v1/analytics/users/${t.admin.id}/score`,
      {
        as: t.admin,
      },
    );
    expect(nobody.score).toBeNull();
  });

  it('refuses bad ids, limits and callers with problem+json', async () => {
    const learner = await t.kit.caller('learner');
    for (const [url, status, as] of [
      ['/api/v1/analytics/users/not-a-uuid/score', 400, learner],
      ['/api/v1/analytics/users/%00/score', 400, learner],
      [`/api/v1/analytics/users/${learner.id}/score`, 401, undefined],
      ['/api/v1/admin/analytics/activity/top', 403, learner],
      ['/api/v1/admin/analytics/activity/top?limit=0', 400, t.admin],
      ['/api/v1/admin/analytics/activity/top?limit=101', 400, t.admin],
      ['/api/v1/admin/analytics/activity/top?limit=99999999999999999999', 400, t.admin],
      ['/api/v1/admin/analytics/activity/top?limit=abc', 400, t.admin],
    ] as const) {
      const answer = await t.kit.request('GET', url, { as });
      expect(answer.statusCode, url).toBe(status);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
  });
});
