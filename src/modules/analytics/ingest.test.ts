import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderPaidEvent } from '../commerce/index.js';
import { startAnalytics, type AnalyticsTest } from './analytics.test-support.js';

let t: AnalyticsTest;
beforeAll(async () => {
  t = await startAnalytics({ settings: { ANALYTICS_INGEST_BATCHES_PER_MINUTE: 40 } });
}, 60_000);
afterAll(() => t.kit.stop());

const at = (minutesAgo: number) => new Date(t.clock().getTime() - minutesAgo * 60_000).toISOString();
const courseId = randomUUID();
const lessonId = randomUUID();
const pageView = (id: string, path = '/home') => ({ id, kind: 'page_view', occurredAt: at(5), path });

describe('POST /analytics/events', () => {
  it('stores a batch of every kind once, and a retried batch not again', async () => {
    const user = await t.kit.caller('learner');
    const events = [
      pageView('e1'),
      { id: 'e2', kind: 'course_view', occurredAt: at(4), courseId },
      { id: 'e3', kind: 'lesson_play', occurredAt: at(3), courseId, lessonId, positionSeconds: 0 },
      {
        id: 'e4',
        kind: 'lesson_pause',
        occurredAt: at(2),
        courseId,
        lessonId,
        positionSeconds: 90,
        watchedSeconds: 90,
      },
      {
        id: 'e5',
        kind: 'lesson_seek',
        occurredAt: at(2),
        courseId,
        lessonId,
        fromSeconds: 90,
        toSeconds: 300,
      },
      { id: 'e6', kind: 'lesson_complete', occurredAt: at(1), courseId, lessonId, watchedSeconds: 60 },
      { id: 'e7', kind: 'search', occurredAt: at(1), query: 'rust 编程', resultCount: 0 },
      { id: 'e8', kind: 'share', occurredAt: at(1), courseId, channel: 'wechat' },
    ];
    const first = await t.send(events, user);
    expect(first.statusCode, first.body).toBe(202);
    expect(first.json()).toEqual({ accepted: 8, duplicates: 0 });
    expect(await t.count('events', `actor = '${user.id}'`)).toBe(8);

    const row = await sql<{
      kind: string;
      user_id: string;
      course_id: string;
      lesson_id: string;
      props: unknown;
    }>`
      select kind, user_id, course_id, lesson_id, props from analytics.events where event_key = 'e4' and actor = ${user.id}`.execute(
      t.kit.app.platform.database.db,
    );
    expect(row.rows[0]).toMatchObject({
      kind: 'lesson_pause',
      user_id: user.id,
      course_id: courseId,
      lesson_id: lessonId,
      props: { positionSeconds: 90, watchedSeconds: 90 },
    });

    const retry = await t.send(events, user);
    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual({ accepted: 0, duplicates: 8 });
    expect(await t.count('events', `actor = '${user.id}'`)).toBe(8);
  });

  it('keeps the first of two events with one id in a batch; ids are per client', async () => {
    const user = await t.kit.caller('learner');
    const other = await t.kit.caller('learner');
    const answer = await t.send([pageView('same', '/a'), pageView('same', '/b')], user);
    expect(answer.json()).toEqual({ accepted: 1, duplicates: 1 });
    const rows = await sql<{ path: string }>`
      select props->>'path' as path from analytics.events where actor = ${user.id}`.execute(
      t.kit.app.platform.database.db,
    );
    expect(rows.rows).toEqual([{ path: '/a' }]);
    expect((await t.send([pageView('same')], other)).json()).toEqual({ accepted: 1, duplicates: 0 });
  });

  it("stores a page view's path and referrer without the values of credential-like parameters", async () => {
    const user = await t.kit.caller('learner');
    const answer = await t.send(
      [
        {
          ...pageView('reset', '/reset-password?token=s3cret-reset&lang=zh'),
          referrer: 'https://mail.example.com/open#access_token=abc&x=1',
        },
        pageView('plain', '/courses?q=rust&page=2'),
      ],
      user,
    );
    expect(answer.json()).toEqual({ accepted: 2, duplicates: 0 });
    const rows = await sql<{ event_key: string; props: unknown }>`
      select event_key, props from analytics.events where actor = ${user.id} order by event_key`.execute(
      t.kit.app.platform.database.db,
    );
    expect(rows.rows).toEqual([
      { event_key: 'plain', props: { path: '/courses?q=rust&page=2' } },
      {
        event_key: 'reset',
        props: {
          path: '/reset-password?token=[redacted]&lang=zh',
          referrer: 'https://mail.example.com/open#access_token=[redacted]&x=1',
        },
      },
    ]);
  });

  it('takes anonymous clients by their X-Client-Id, and refuses them without one', async () => {
    const clientId = `web-${randomUUID()}`;
    const ok = await t.send([pageView('a1')], { clientId });
    expect(ok.statusCode).toBe(202);
    expect(
      await t.count('events', `actor = 'anon:${clientId}' and user_id is null and client_id = '${clientId}'`),
    ).toBe(1);

    const none = await t.kit.request('POST', '/api/v1/analytics/events', {
      body: { events: [pageView('a2')] },
    });
    expect(none.statusCode).toBe(400);
    expect(none.headers['content-type']).toContain('application/problem+json');
    expect(none.json()).toMatchObject({ code: 'analytics.client-id-required' });

    const bad = await t.send([pageView('a3')], { clientId: 'short' });
    expect(bad.statusCode).toBe(400);
  });

  it('stores the sender and the time of each event on every row of a batch', async () => {
    const user = await t.kit.caller('learner');
    const device = `app-${randomUUID()}`;
    const events = [
      pageView('s1', '/one'),
      // an offset instead of Z: the row keeps the instant
      { id: 's2', kind: 'course_view', occurredAt: at(2).replace('Z', '+00:00'), courseId },
      { id: 's3', kind: 'lesson_play', occurredAt: at(1), courseId, lessonId, positionSeconds: 5 },
    ];
    const answer = await t.kit.request('POST', '/api/v1/analytics/events', {
      as: user,
      body: { events },
      headers: { 'x-client-id': device },
    });
    expect(answer.statusCode, answer.body).toBe(202);
    const rows = await sql<{
      event_key: string;
      source: string;
      actor: string;
      user_id: string;
      client_id: string;
      course_id: string | null;
      lesson_id: string | null;
      occurred_at: Date;
      props: unknown;
    }>`
      select event_key, source, actor, user_id, client_id, course_id, lesson_id, occurred_at, props
      from analytics.events where actor = ${user.id} order by event_key`.execute(
      t.kit.app.platform.database.db,
    );
    const sender = { source: 'client', actor: user.id, user_id: user.id, client_id: device };
    expect(rows.rows).toEqual([
      {
        ...sender,
        event_key: 's1',
        course_id: null,
        lesson_id: null,
        occurred_at: new Date(events[0]!.occurredAt),
        props: { path: '/one' },
      },
      {
        ...sender,
        event_key: 's2',
        course_id: courseId,
        lesson_id: null,
        occurred_at: new Date(events[1]!.occurredAt),
        props: {},
      },
      {
        ...sender,
        event_key: 's3',
        course_id: courseId,
        lesson_id: lessonId,
        occurred_at: new Date(events[2]!.occurredAt),
        props: { positionSeconds: 5 },
      },
    ]);
  });

  it('refuses a batch with one bad event, naming it, and stores none of it', async () => {
    const clientId = `bad-${randomUUID()}`;
    const cases: [unknown, string][] = [
      [{ id: 'x', kind: 'search', occurredAt: at(1), query: 'no count' }, '/body/events/1'],
      [{ id: 'x', kind: 'course_view', occurredAt: at(1), courseId: 'not-a-uuid' }, '/body/events/1'],
      [
        {
          id: 'x',
          kind: 'lesson_pause',
          occurredAt: at(1),
          courseId,
          lessonId,
          positionSeconds: 1,
          watchedSeconds: 1e20,
        },
        '/body/events/1',
      ],
      [{ id: 'x', kind: 'page_view', occurredAt: at(1), path: '/a\u0000b' }, '/body/events/1'],
      [{ id: 'x', kind: 'page_view', occurredAt: at(1), path: '/a\ud800' }, '/body/events/1'],
      [{ id: 'x', kind: 'teleport', occurredAt: at(1) }, '/body/events/1'],
      [
        { id: 'x', kind: 'page_view', occurredAt: at(60 * 24 * 8), path: '/old' },
        '/body/events/1/occurredAt',
      ],
      [{ id: 'x', kind: 'page_view', occurredAt: at(-60), path: '/future' }, '/body/events/1/occurredAt'],
      [{ id: 'x y', kind: 'page_view', occurredAt: at(1), path: '/' }, '/body/events/1'],
    ];
    for (const [bad, field] of cases) {
      const answer = await t.send([pageView('good'), bad], { clientId });
      expect(answer.statusCode, JSON.stringify(bad)).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      const fields = answer.json<{ fields?: { field: string }[] }>().fields ?? [];
      expect(
        fields.some((f) => f.field.startsWith(field)),
        `${JSON.stringify(bad)} → ${answer.body}`,
      ).toBe(true);
    }
    expect(await t.count('events', `actor = 'anon:${clientId}'`)).toBe(0);
    expect(await t.count('event_keys', `actor = 'anon:${clientId}'`)).toBe(0);

    const tooMany = Array.from({ length: 501 }, (_, i) => pageView(`m${i}`));
    expect((await t.send(tooMany, { clientId })).statusCode).toBe(400);
    expect((await t.send([], { clientId })).statusCode).toBe(400);
  });

  it('stores nothing of a batch that fails mid-way, and each event once on retry', async () => {
    const user = await t.kit.caller('learner');
    const batch = Array.from({ length: 500 }, (_, i) =>
      pageView(`c${i}`, i === 250 ? '/crash-here' : `/p/${i}`),
    );
    const db = t.kit.app.platform.database.db;
    // a real failure inside the insert, after the keys were claimed: the 251st row is refused
    await sql`
      create function analytics.test_crash() returns trigger language plpgsql as $$
      begin
        if new.props->>'path' = '/crash-here' then raise exception 'simulated crash mid-batch'; end if;
        return new;
      end $$`.execute(db);
    await sql`create trigger test_crash before insert on analytics.events for each row execute function analytics.test_crash()`.execute(
      db,
    );
    const crashed = await t.send(batch, user);
    expect(crashed.statusCode).toBe(500);
    expect(await t.count('events', `actor = '${user.id}'`)).toBe(0);
    expect(await t.count('event_keys', `actor = '${user.id}'`)).toBe(0);

    await sql`drop trigger test_crash on analytics.events`.execute(db);
    const retried = await t.send(batch, user);
    expect(retried.statusCode).toBe(202);
    expect(retried.json()).toEqual({ accepted: 500, duplicates: 0 });
    const again = await t.send(batch, user);
    expect(again.json()).toEqual({ accepted: 0, duplicates: 500 });
    expect(await t.count('events', `actor = '${user.id}'`)).toBe(500);
    expect(await t.count('events', `actor = '${user.id}' and kind = 'page_view'`)).toBe(500);
  });

  it('limits batches per client id with the platform rate limit', async () => {
    const clientId = `flood-${randomUUID()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 42; i++) statuses.push((await t.send([pageView(`f${i}`)], { clientId })).statusCode);
    expect(statuses.slice(0, 40).every((s) => s === 202)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // another client is not held back by that one
    expect((await t.send([pageView('g1')], { clientId: `calm-${randomUUID()}` })).statusCode).toBe(202);
  });

  it('keeps domain events as raw events exactly once, also when the bus delivers one twice', async () => {
    const buyer = randomUUID();
    const orderId = randomUUID();
    await t.emit('commerce', OrderPaidEvent, {
      orderId,
      userId: buyer,
      lines: [{ courseId, title: 'C', amount: 9900, instructorIds: [randomUUID()] }],
      total: 9900,
      currency: 'CNY',
      provider: 'sandbox',
      paidAt: at(10),
    });
    expect(await t.count('events', `actor = '${buyer}' and kind = 'order_paid' and source = 'domain'`)).toBe(
      1,
    );
    const [envelope] = await t.kit.outbox('commerce', OrderPaidEvent.type);
    if (!envelope) throw new Error('no outbox row');
    await t.kit.app.platform.bus.publish(envelope);
    await t.kit.settle();
    expect(await t.count('events', `kind = 'order_paid'`)).toBe(1);
    expect(await t.count('order_lines', `order_id = '${orderId}'`)).toBe(1);
    expect(await t.count('course_buyers', `course_id = '${courseId}' and buyers = 1`)).toBe(1);
  });

  it('makes monthly partitions, and the job adds the months ahead', async () => {
    const parts = await sql<{ name: string }>`
      select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = 'analytics.events'::regclass`.execute(t.kit.app.platform.database.db);
    const names = parts.rows.map((r) => r.name);
    expect(names).toContain('events_default');
    expect(names.filter((n) => /^events_y\d{4}m\d{2}$/.test(n)).length).toBeGreaterThanOrEqual(28);
    t.clock.set(new Date('2031-01-15T00:00:00.000Z'));
    try {
      const made = await t.analytics.services.aggregates.prepareMonths();
      expect(made).toEqual(['events_y2031m01', 'events_y2031m02', 'events_y2031m03', 'events_y2031m04']);
      expect(await t.analytics.services.aggregates.prepareMonths()).toEqual([]);
    } finally {
      t.clock.set(new Date('2026-03-10T12:00:00.000Z'));
    }
  });
});
