import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';

let t: CommerceTest;
beforeAll(async () => {
  t = await startCommerce();
}, 60_000);
afterAll(async () => {
  await t.stop();
});

const order = (t: CommerceTest, courseIds: string[], as = t.learner, headers: Record<string, string> = {}) =>
  t.kit.request('POST', '/api/v1/orders', { as, body: { courseIds }, headers });

describe('orders', () => {
  it('creates an order with the catalog price, then returns the same pending order for the same set', async () => {
    const a = await t.course({ amount: 9900, currency: 'CNY' });
    const b = await t.course({ amount: 100, currency: 'CNY' });
    const first = await order(t, [a, b]);
    expect(first.statusCode, first.body).toBe(201);
    const body = first.json<{
      id: string;
      status: string;
      total: unknown;
      lines: { courseId: string; instructorIds: string[] }[];
      expiresAt: string;
    }>();
    expect(body.status).toBe('pending');
    expect(body.total).toEqual({ amount: 10000, currency: 'CNY' });
    expect(body.lines).toHaveLength(2);
    // each line names the course's instructors as the catalog shows them
    const shown = await t.kit.expectStatus<{ instructors: { id: string }[] }>(
      200,
      'GET',
      `/api/v1/courses/${a}`,
    );
    expect(shown.instructors.length).toBeGreaterThan(0);
    expect(body.lines.find((l) => l.courseId === a)?.instructorIds).toEqual(
      shown.instructors.map((i) => i.id),
    );
    expect(new Date(body.expiresAt).getTime() - t.clock().getTime()).toBe(30 * 60 * 1000);

    const again = await order(t, [b, a]);
    expect(again.statusCode).toBe(200);
    expect(again.json<{ id: string }>().id).toBe(body.id);

    const overlapping = await order(t, [a]);
    expect(overlapping.statusCode).toBe(409);
    expect(overlapping.json()).toMatchObject({ code: 'commerce.pending-order-exists' });
    // the answer names the pending order, so the client can offer to pay or cancel it
    expect(overlapping.json<{ detail: string }>().detail).toContain(body.id);

    const detail = await t.kit.expectStatus<{ transitions: { to: string; actorKind: string }[] }>(
      200,
      'GET',
      `/api/v1/orders/${body.id}`,
      { as: t.learner },
    );
    expect(detail.transitions).toEqual([expect.objectContaining({ to: 'pending', actorKind: 'user' })]);
  });

  it('an overdue pending order the sweep has not reached is expired by the next order of its course', async () => {
    const a = await t.course();
    const first = await order(t, [a]);
    expect(first.statusCode).toBe(201);
    const firstId = first.json<{ id: string }>().id;
    t.clock.advance(31 * 60);
    try {
      const next = await order(t, [a]);
      expect(next.statusCode, next.body).toBe(201);
      const nextId = next.json<{ id: string }>().id;
      expect(nextId).not.toBe(firstId);
      expect(await t.count('orders', sql`id = ${firstId} and status = 'expired'`)).toBe(1);
      expect(await t.count('order_lines', sql`course_id = ${a} and pending`)).toBe(1);
    } finally {
      t.clock.advance(-31 * 60);
    }
  });

  it('one pending order however many identical orders race: the others get that order back', async () => {
    const a = await t.course();
    const b = await t.course();
    const answers = await Promise.all(Array.from({ length: 12 }, () => order(t, [a, b])));
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(1);
    expect(answers.filter((r) => r.statusCode === 200)).toHaveLength(11);
    const ids = new Set(answers.map((r) => r.json<{ id: string }>().id));
    expect(ids.size).toBe(1);
    const id = [...ids][0] ?? '';
    expect(await t.count('orders', sql`id = ${id}`)).toBe(1);
    expect(await t.count('order_lines', sql`course_id in (${a}, ${b})`)).toBe(2);
  });

  it('refuses unknown, draft, free and mixed-currency courses, changing nothing', async () => {
    const before = await t.count('orders');
    const draft = await t.draftCourse();
    const free = await t.course({ amount: 0, currency: 'CNY' });
    const usd = await t.course({ amount: 500, currency: 'USD' });
    const cny = await t.course({ amount: 500, currency: 'CNY' });
    const cases: [string[], number, string][] = [
      [['00000000-0000-4000-8000-000000000000'], 404, 'commerce.course-not-found'],
      [[draft], 404, 'commerce.course-not-found'],
      [[free], 409, 'commerce.course-free-enrol-instead'],
      [[usd, cny], 400, 'commerce.mixed-currencies'],
      [[cny, cny], 400, 'commerce.duplicate-course'],
    ];
    for (const [ids, status, code] of cases) {
      const res = await order(t, ids);
      expect(res.statusCode, res.body).toBe(status);
      expect(res.json()).toMatchObject({ code });
    }
    expect(await t.count('orders')).toBe(before);
  });

  it('hides someone else’s order and lets the learner cancel their own', async () => {
    const c = await t.course();
    const mine = (await order(t, [c])).json<{ id: string }>();
    const other = await t.kit.caller('learner');
    await t.kit.expectStatus(404, 'GET', `/api/v1/orders/${mine.id}`, { as: other });
    await t.kit.expectStatus(404, 'POST', `/api/v1/orders/${mine.id}/cancel`, { as: other, body: {} });
    const cancelled = await t.kit.expectStatus<{ status: string }>(
      200,
      'POST',
      `/api/v1/orders/${mine.id}/cancel`,
      {
        as: t.learner,
        body: { reason: 'changed my mind' },
      },
    );
    expect(cancelled.status).toBe('cancelled');
    const closed = await t.kit.outbox('commerce', 'commerce.order.closed');
    expect(closed.map((e) => e.aggregateId)).toContain(mine.id);
    await t.kit.expectStatus(409, 'POST', `/api/v1/orders/${mine.id}/cancel`, { as: t.learner, body: {} });
  });
});

describe('Idempotency-Key on order creation and payment start', () => {
  it('replays the same answer for the same key and body, with no second effect; refuses the key with another body', async () => {
    const me = await t.kit.caller('learner');
    const [a, b] = [await t.course(), await t.course()];
    const mine = sql.raw(`user_id = '${me.id}'`);

    const first = await order(t, [a], me, { 'idempotency-key': 'order-key-1' });
    expect(first.statusCode, first.body).toBe(201);
    const created = first.json<{ id: string }>();
    // a plain repeat would answer 200 (the same pending order); the replay is the stored 201
    const replay = await order(t, [a], me, { 'idempotency-key': 'order-key-1' });
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    expect(await t.count('orders', mine)).toBe(1);
    expect(await t.count('order_transitions', sql.raw(`order_id = '${created.id}'`))).toBe(1);

    const reused = await order(t, [b], me, { 'idempotency-key': 'order-key-1' });
    expect(reused.statusCode).toBe(409);
    expect(reused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(reused.json()).toMatchObject({ code: 'idempotency.key-reused' });
    expect(await t.count('orders', mine)).toBe(1);

    const pay = (provider: string, key: string) =>
      t.kit.request('POST', `/api/v1/orders/${created.id}/payments`, {
        as: me,
        body: { provider },
        headers: { 'idempotency-key': key },
      });
    const started = await pay('sandbox', 'pay-key-1');
    expect(started.statusCode, started.body).toBe(201);
    const again = await pay('sandbox', 'pay-key-1');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json<{ id: string }>().id).toBe(started.json<{ id: string }>().id);
    expect(await t.count('payments', sql.raw(`order_id = '${created.id}'`))).toBe(1);

    const other = await pay('card', 'pay-key-1');
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'idempotency.key-reused' });
    expect(await t.count('payments', sql.raw(`order_id = '${created.id}'`))).toBe(1);

    // a new key is a new attempt: the replay above was the key, not a rule against two attempts
    const fresh = await pay('sandbox', 'pay-key-2');
    expect(fresh.statusCode).toBe(201);
    expect(await t.count('payments', sql.raw(`order_id = '${created.id}'`))).toBe(2);
  });
});
