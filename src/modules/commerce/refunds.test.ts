import { createHmac } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type HeldNotification,
  type RefundsTest,
  SANDBOX_SECRET,
  startRefunds,
} from './refunds.test-support.js';

let t: RefundsTest;
beforeAll(async () => {
  t = await startRefunds({ COMMERCE_REFUND_WINDOW_DAYS: '7', COMMERCE_REFUND_MAX_CONSUMED_BPS: '2000' });
}, 120_000);
afterAll(async () => {
  await t.stop();
});

interface RefundAnswer {
  id: string;
  status: string;
  amount: { amount: number; currency: string };
  lines: { courseId: string; amount: { amount: number } }[];
  reviewReason: string | null;
  decidedBy: { kind: string; id: string | null } | null;
  transitions: { from: string | null; to: string; actorKind: string }[];
}

const ask = (
  orderId: string,
  body: Record<string, unknown>,
  as = t.learner,
  headers?: Record<string, string>,
) =>
  t.kit.request('POST', `/api/v1/orders/${orderId}/refunds`, { as, body, ...(headers ? { headers } : {}) });

const access = (lessonId: string, as = t.learner) =>
  t.kit.request('GET', `/api/v1/lessons/${lessonId}/access`, { as });

const order = (orderId: string, as = t.learner) =>
  t.kit.expectStatus<{ status: string; transitions: { to: string; actorKind: string; reason: string }[] }>(
    200,
    'GET',
    `/api/v1/orders/${orderId}`,
    { as },
  );

const refundedEvents = async (orderId: string) =>
  (await t.kit.outbox('commerce', 'commerce.order.refunded')).filter((e) => e.aggregateId === orderId);

const refund = (id: string, as = t.learner) =>
  t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${id}`, { as });

async function expectLedgerBalanced() {
  const balance = await t.kit.expectStatus<{
    totals: { currency: string; balance: number }[];
    unbalancedJournals: number;
  }>(200, 'GET', '/api/v1/admin/ledger/trial-balance', { as: t.admin });
  expect(balance.unbalancedJournals).toBe(0);
  // an empty ledger would pass the loop below: the books must hold something to balance
  expect(balance.totals.length).toBeGreaterThan(0);
  for (const total of balance.totals) expect(total.balance).toBe(0);
}

describe('learner refunds through HTTP, sandbox end to end', () => {
  it('buy → refund approved by rule → sent → order refunded, event in the outbox, access gone on the next request, ledger reversed', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    const paidLesson = course.lessonIds[1] ?? '';
    expect((await access(paidLesson, buyer)).statusCode).toBe(200);

    const created = await ask(orderId, { reason: 'not what I expected' }, buyer);
    expect(created.statusCode, created.body).toBe(201);
    const r = created.json<RefundAnswer>();
    expect(r).toMatchObject({
      status: 'approved',
      amount: { amount: 9900, currency: 'CNY' },
      reviewReason: null,
    });
    expect(r.decidedBy).toEqual({ kind: 'system', id: 'refund-rule' });
    expect(r.lines).toEqual([{ courseId: course.id, amount: { amount: 9900, currency: 'CNY' } }]);

    await t.sendRefund(r.id);
    const done = await refund(r.id, buyer);
    expect(done.status).toBe('succeeded');
    expect(done.transitions.map((x) => x.to)).toEqual(['requested', 'approved', 'sent', 'succeeded']);
    const o = await order(orderId, buyer);
    expect(o.status).toBe('refunded');
    // orders' transitions of one test-clock instant come back in id (uuid) order, so compare as a set
    expect(o.transitions.map((x) => x.to).sort()).toEqual(['paid', 'pending', 'refunded']);
    expect(o.transitions.find((x) => x.to === 'refunded')).toMatchObject({
      actorKind: 'provider',
      reason: `refund ${r.id} succeeded`,
    });

    const events = await refundedEvents(orderId);
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({
      orderId,
      userId: buyer.id,
      refundId: r.id,
      amount: 9900,
      currency: 'CNY',
      revokedCourseIds: [course.id],
      orderStatus: 'refunded',
    });

    await t.kit.settle();
    const after = await access(paidLesson, buyer);
    expect(after.statusCode).toBe(403);
    expect(after.json()).toMatchObject({ code: 'learning.purchase-required' });

    await expectLedgerBalanced();
    const { rows } = await sql<{ account: string; amount: string }>`
      select p.account, sum(p.amount)::text as amount from commerce.ledger_postings p
      join commerce.ledger_journals j on j.id = p.journal_id
      where j.order_id = ${orderId} and j.kind = 'refund' group by p.account order by p.account`.execute(
      t.kit.app.platform.database.db,
    );
    // the refund journal takes back exactly what the sale booked: clearing −9900, fee and share back
    expect(rows.find((x) => x.account === 'provider_clearing')?.amount).toBe('-9900');
    const sale = await sql<{ n: string }>`
      select coalesce(sum(p.amount), 0)::text as n from commerce.ledger_postings p
      join commerce.ledger_journals j on j.id = p.journal_id where j.order_id = ${orderId}`.execute(
      t.kit.app.platform.database.db,
    );
    expect(sale.rows[0]?.n).toBe('0');

    // nothing is left: a further request is a 409, and no second event appears
    const again = await ask(orderId, { reason: 'again' }, buyer);
    expect(again.statusCode).toBe(409);
    expect(await refundedEvents(orderId)).toHaveLength(1);
  });

  it('a refund of one course of two → partially_refunded and only that course revoked; a partial amount revokes nothing', async () => {
    const buyer = await t.kit.caller('learner');
    const [a, b] = [await t.course(5000), await t.course(3000)];
    const orderId = await t.buy(buyer, [a.id, b.id]);

    const one = await ask(orderId, { courseIds: [a.id], reason: 'wrong course' }, buyer);
    expect(one.statusCode, one.body).toBe(201);
    expect(one.json<RefundAnswer>().amount.amount).toBe(5000);
    await t.sendRefund(one.json<RefundAnswer>().id);
    expect((await order(orderId, buyer)).status).toBe('partially_refunded');
    expect((await refundedEvents(orderId))[0]?.data).toMatchObject({
      revokedCourseIds: [a.id],
      orderStatus: 'partially_refunded',
    });
    await t.kit.settle();
    expect((await access(a.lessonIds[1] ?? '', buyer)).statusCode).toBe(403);
    expect((await access(b.lessonIds[1] ?? '', buyer)).statusCode).toBe(200);
    // the refunded course may be bought again; the one still owned may not
    const rebuy = await t.kit.request('POST', '/api/v1/orders', { as: buyer, body: { courseIds: [a.id] } });
    expect(rebuy.statusCode, rebuy.body).toBe(201);
    const owned = await t.kit.request('POST', '/api/v1/orders', { as: buyer, body: { courseIds: [b.id] } });
    expect(owned.json()).toMatchObject({ code: 'commerce.already-owned' });

    const part = await ask(orderId, { amount: 1000, reason: 'a goodwill partial refund' }, buyer);
    expect(part.statusCode, part.body).toBe(201);
    expect(part.json<RefundAnswer>().lines).toEqual([
      { courseId: b.id, amount: { amount: 1000, currency: 'CNY' } },
    ]);
    await t.sendRefund(part.json<RefundAnswer>().id);
    const events = await refundedEvents(orderId);
    expect(events).toHaveLength(2);
    expect(events[1]?.data).toMatchObject({
      amount: 1000,
      revokedCourseIds: [],
      orderStatus: 'partially_refunded',
    });
    await t.kit.settle();
    expect((await access(b.lessonIds[1] ?? '', buyer)).statusCode).toBe(200);
    expect((await order(orderId, buyer)).status).toBe('partially_refunded');

    // the rest of the order: 2000 left of course b; asking 2001 is refused, 2000 ends it
    const tooMuch = await ask(orderId, { amount: 2001, reason: 'more' }, buyer);
    expect(tooMuch.statusCode).toBe(409);
    expect(tooMuch.json()).toMatchObject({ code: 'commerce.refund-exceeds-remaining' });
    const rest = await ask(orderId, { reason: 'the rest' }, buyer);
    expect(rest.json<RefundAnswer>().amount.amount).toBe(2000);
    await t.sendRefund(rest.json<RefundAnswer>().id);
    expect((await order(orderId, buyer)).status).toBe('refunded');
    expect((await refundedEvents(orderId))[2]?.data).toMatchObject({ orderStatus: 'refunded' });
    await t.kit.settle();
    expect((await access(b.lessonIds[1] ?? '', buyer)).statusCode).toBe(403);
    await expectLedgerBalanced();
  });

  it('20 concurrent refund requests adding up to more than was paid → never more than paid is held or refunded, the rest 409', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => ask(orderId, { amount: 1000, reason: `request ${i}` }, buyer)),
    );
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(9);
    expect(statuses.filter((s) => s === 409)).toHaveLength(11);
    for (const a of answers.filter((x) => x.statusCode === 409)) {
      expect(a.headers['content-type']).toContain('application/problem+json');
      expect(a.json()).toMatchObject({ code: 'commerce.refund-exceeds-remaining' });
    }
    for (const a of answers.filter((x) => x.statusCode === 201))
      await t.sendRefund(a.json<RefundAnswer>().id);
    const { rows } = await sql<{ total: number }>`
      select coalesce(sum(amount), 0)::int as total from commerce.refunds
      where order_id = ${orderId} and status = 'succeeded'`.execute(t.kit.app.platform.database.db);
    expect(rows[0]?.total).toBe(9000);
    expect((await order(orderId, buyer)).status).toBe('partially_refunded');
    expect(await refundedEvents(orderId)).toHaveLength(9);
    await expectLedgerBalanced();
  });

  it('the database refuses holding more than a line was paid, whatever the service computed', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    await expect(
      sql`insert into commerce.refund_balances (order_id, course_id, paid, reserved)
          values (${orderId}, ${course.id}, 9900, 9901)`.execute(t.kit.app.platform.database.db),
    ).rejects.toThrow(/refund_balances_within_paid/);
  });

  it('bad input: above what was paid → 400 naming amount; another user’s or an unknown order → 404; a course not in the order → 400; nothing changes', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    const before = await t.count('refunds');

    const above = await ask(orderId, { amount: 9901, reason: 'too much' }, buyer);
    expect(above.statusCode).toBe(400);
    expect(above.headers['content-type']).toContain('application/problem+json');
    expect(above.json()).toMatchObject({
      code: 'commerce.refund-exceeds-paid',
      fields: [{ field: '/body/amount' }],
    });

    const stranger = await t.kit.caller('learner');
    const theirs = await ask(orderId, { reason: 'not mine' }, stranger);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json()).toMatchObject({ code: 'commerce.order-not-found' });
    const unknown = await ask('00000000-0000-4000-8000-000000000000', { reason: 'nobody' }, buyer);
    expect(unknown.statusCode).toBe(404);

    const other = await t.course(100);
    const notIn = await ask(orderId, { courseIds: [other.id], reason: 'other' }, buyer);
    expect(notIn.statusCode).toBe(400);
    expect(notIn.json()).toMatchObject({ code: 'commerce.refund-course-not-in-order' });

    for (const body of [
      { reason: '' },
      { amount: 0, reason: 'zero' },
      { amount: -5, reason: 'negative' },
      { amount: 1.5, reason: 'fraction' },
      {},
      { courseIds: ['not-a-uuid'], reason: 'x' },
    ]) {
      const res = await ask(orderId, body, buyer);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(await t.count('refunds')).toBe(before);
    expect((await order(orderId, buyer)).status).toBe('paid');

    // someone else's refund id is not found either
    const mine = await ask(orderId, { amount: 100, reason: 'a small one' }, buyer);
    const seen = await t.kit.request('GET', `/api/v1/refunds/${mine.json<RefundAnswer>().id}`, {
      as: stranger,
    });
    expect(seen.statusCode).toBe(404);
  });

  it('a pending order cannot be refunded', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const pending = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
      as: buyer,
      body: { courseIds: [course.id] },
    });
    const res = await ask(pending.id, { reason: 'never paid' }, buyer);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'commerce.order-not-refundable' });
  });

  it('after the refund window a learner is refused with a clear code; an admin may still refund', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    t.clock.advance(8 * 24 * 3600);
    try {
      const late = await ask(orderId, { reason: 'late' }, buyer);
      expect(late.statusCode).toBe(409);
      expect(late.json()).toMatchObject({ code: 'commerce.refund-window-closed' });
      expect(await t.count('refunds', sql`order_id = ${orderId}`)).toBe(0);

      const byAdmin = await t.kit.request('POST', `/api/v1/admin/orders/${orderId}/refunds`, {
        as: t.admin,
        body: { reason: 'goodwill after a complaint' },
      });
      expect(byAdmin.statusCode, byAdmin.body).toBe(201);
      expect(byAdmin.json<RefundAnswer>()).toMatchObject({
        status: 'approved',
        decidedBy: { kind: 'admin', id: t.admin.id },
      });
      await t.sendRefund(byAdmin.json<RefundAnswer>().id);
      expect((await order(orderId, buyer)).status).toBe('refunded');
      // a learner cannot use the admin route
      const forbidden = await t.kit.request('POST', `/api/v1/admin/orders/${orderId}/refunds`, {
        as: buyer,
        body: { reason: 'me too' },
      });
      expect(forbidden.statusCode).toBe(403);
    } finally {
      t.clock.advance(-8 * 24 * 3600);
    }
  });

  it('consumed share above the limit → waits for an admin; the admin approves → it succeeds', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    await consume(buyer, course.lessonIds.slice(1, 3));

    const created = await ask(orderId, { reason: 'changed my mind' }, buyer);
    expect(created.statusCode, created.body).toBe(201);
    const r = created.json<RefundAnswer & { consumedShareBps: number }>();
    expect(r.status).toBe('requested');
    expect(r.consumedShareBps).toBe(5000);
    expect(r.reviewReason).toContain('50%');
    // waiting: nothing is sent, access stays
    await t.sendRefund(r.id);
    expect((await refund(r.id, buyer)).status).toBe('requested');
    await t.kit.settle();
    expect((await access(course.lessonIds[1] ?? '', buyer)).statusCode).toBe(200);

    const listed = await t.kit.expectStatus<{ data: { id: string; status: string }[] }>(
      200,
      'GET',
      '/api/v1/admin/refunds?status=requested&limit=100',
      { as: t.admin },
    );
    expect(listed.data.map((x) => x.id)).toContain(r.id);
    expect(listed.data.every((x) => x.status === 'requested')).toBe(true);

    const byLearner = await t.kit.request('POST', `/api/v1/admin/refunds/${r.id}/approve`, {
      as: buyer,
      body: { reason: 'I approve myself' },
    });
    expect(byLearner.statusCode).toBe(403);

    const approved = await t.kit.expectStatus<RefundAnswer>(
      200,
      'POST',
      `/api/v1/admin/refunds/${r.id}/approve`,
      {
        as: t.admin,
        body: { reason: 'course was broken' },
      },
    );
    expect(approved.status).toBe('approved');
    expect(approved.decidedBy).toEqual({ kind: 'admin', id: t.admin.id });
    await t.sendRefund(r.id);
    expect((await refund(r.id, buyer)).status).toBe('succeeded');
    expect((await order(orderId, buyer)).status).toBe('refunded');
    await t.kit.settle();
    expect((await access(course.lessonIds[1] ?? '', buyer)).statusCode).toBe(403);

    // decided once: a second decision is a 409
    const twice = await t.kit.request('POST', `/api/v1/admin/refunds/${r.id}/reject`, {
      as: t.admin,
      body: { reason: 'too late' },
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ code: 'commerce.refund-not-awaiting-decision' });
  });

  it('an admin rejects with a reason: nothing is refunded, and the amount may be asked for again', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    await consume(buyer, course.lessonIds.slice(1, 4));
    const r = (await ask(orderId, { reason: 'please' }, buyer)).json<RefundAnswer>();
    expect(r.status).toBe('requested');

    const noReason = await t.kit.request('POST', `/api/v1/admin/refunds/${r.id}/reject`, {
      as: t.admin,
      body: {},
    });
    expect(noReason.statusCode).toBe(400);
    const rejected = await t.kit.expectStatus<RefundAnswer & { decisionReason: string }>(
      200,
      'POST',
      `/api/v1/admin/refunds/${r.id}/reject`,
      { as: t.admin, body: { reason: 'three quarters watched' } },
    );
    expect(rejected).toMatchObject({ status: 'rejected', decisionReason: 'three quarters watched' });
    expect((await order(orderId, buyer)).status).toBe('paid');
    expect(await refundedEvents(orderId)).toHaveLength(0);

    const again = await ask(orderId, { reason: 'please, again' }, buyer);
    expect(again.statusCode).toBe(201);
    expect(again.json<RefundAnswer>().amount.amount).toBe(9900);

    const mine = await t.kit.expectStatus<{ data: { id: string }[] }>(200, 'GET', '/api/v1/refunds', {
      as: buyer,
    });
    // both were asked at the test clock's same instant, so their order in the list is the id's
    expect(mine.data.map((x) => x.id).sort()).toEqual([again.json<RefundAnswer>().id, r.id].sort());
  });

  it('Idempotency-Key: a replay answers the same refund and creates nothing; the key with another body is a 409', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);
    const headers = { 'idempotency-key': `refund-${orderId}` };
    const body = { amount: 500, reason: 'a scratch on the video' };
    const first = await ask(orderId, body, buyer, headers);
    expect(first.statusCode).toBe(201);
    const second = await ask(orderId, body, buyer, headers);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json<RefundAnswer>().id).toBe(first.json<RefundAnswer>().id);
    expect(await t.count('refunds', sql`order_id = ${orderId}`)).toBe(1);

    const other = await ask(orderId, { ...body, amount: 600 }, buyer, headers);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'idempotency.key-reused' });
    expect(await t.count('refunds', sql`order_id = ${orderId}`)).toBe(1);
  });

  it('duplicate refund notifications (the same and re-signed copies, concurrently) → one transition, one event', async () => {
    const buyer = await t.kit.caller('learner');
    const course = await t.course(9900);
    const orderId = await t.buy(buyer, [course.id]);

    // the notification does not arrive: the job fails and would be retried
    const { refund: r, held } = await t.refundWithLostAnswer(buyer, orderId, 'duplicate test');
    expect((await refund(r.id, buyer)).status).toBe('sent');
    expect(JSON.parse(held.body)).toMatchObject({ type: 'refund.succeeded', refundId: r.id, amount: 9900 });

    const copies = Array.from({ length: 10 }, (_, i) =>
      resign(held, held.body.replace(/"id":"[^"]+"/, `"id":"sbn_refund_copy_${i}"`)),
    );
    const answers = await Promise.all([
      ...Array.from({ length: 10 }, () => post(held)),
      ...copies.map((c) => post(c)),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(await refundedEvents(orderId)).toHaveLength(1);
    expect(await t.count('refund_transitions', sql`refund_id = ${r.id} and to_status = 'succeeded'`)).toBe(1);
    expect(await t.count('order_transitions', sql`order_id = ${orderId} and to_status = 'refunded'`)).toBe(1);

    // the job's retry finds it done: no second effect
    await t.sendRefund(r.id);
    expect(await refundedEvents(orderId)).toHaveLength(1);
    await expectLedgerBalanced();
  });
});

async function consume(as: { token: string }, lessonIds: string[]) {
  for (const lessonId of lessonIds) {
    await t.kit.expectStatus(200, 'PUT', `/api/v1/lessons/${lessonId}/progress`, {
      as,
      body: { position: 0, completed: true },
    });
  }
}

const post = (n: HeldNotification) => t.kit.request('POST', n.url, { headers: n.headers, body: n.body });

function resign(n: HeldNotification, body: string): HeldNotification {
  const ts = /t=(\d+)/.exec(n.headers['lectern-sandbox-signature'] ?? '')?.[1] ?? '0';
  const v1 = createHmac('sha256', SANDBOX_SECRET).update(`${ts}.${body}`).digest('base64url');
  return { ...n, body, headers: { ...n.headers, 'lectern-sandbox-signature': `t=${ts},v1=${v1}` } };
}
