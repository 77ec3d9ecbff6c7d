import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import { encodeCursor } from '../../platform/http/pagination.js';
import { type RefundsTest, startRefunds } from './refunds.test-support.js';

const WINDOW_DAYS = 7;
const PAST_WINDOW = WINDOW_DAYS * 86_400 + 1;

let t: RefundsTest;
beforeAll(async () => {
  t = await startRefunds({
    COMMERCE_REFUND_WINDOW_DAYS: String(WINDOW_DAYS),
    COMMERCE_PLATFORM_FEE_BPS: '3000',
  });
}, 120_000);
afterAll(async () => {
  await t.stop();
});

interface Balance {
  currency: string;
  earned: number;
  pending: number;
  reserved: number;
  paidOut: number;
  available: number;
}

interface PayoutAnswer {
  id: string;
  instructorId: string;
  amount: { amount: number; currency: string };
  status: string;
  reference: string | null;
  rejectionReason: string | null;
  decidedBy?: string | null;
  transitions: { from: string | null; to: string; actorKind: string; reason: string }[];
}

/** A new learner buys a new course of `instructor` at `amount` CNY (the instructor's share: 70 %), paid through the sandbox. */
async function sale(instructor: Caller, amount: number): Promise<string> {
  const course = await t.course(amount, instructor);
  return t.buy(await t.kit.caller('learner'), [course.id]);
}

/** An instructor with `amount` CNY of shares already past the refund window. */
async function instructorWithAvailable(price: number): Promise<Caller> {
  const instructor = await t.kit.caller('instructor');
  await sale(instructor, price);
  t.clock.advance(PAST_WINDOW);
  return instructor;
}

async function balanceOf(instructor: Caller, currency = 'CNY'): Promise<Balance | undefined> {
  const answer = await t.kit.expectStatus<{ windowDays: number; balances: Balance[] }>(
    200,
    'GET',
    '/api/v1/payouts/balance',
    { as: instructor },
  );
  expect(answer.windowDays).toBe(WINDOW_DAYS);
  return answer.balances.find((b) => b.currency === currency);
}

const requestPayout = (as: Caller, body: unknown, key: string = randomUUID()) =>
  t.kit.request('POST', '/api/v1/payouts', { as, body, headers: { 'idempotency-key': key } });

async function requested(as: Caller, amount: number): Promise<PayoutAnswer> {
  const res = await requestPayout(as, { amount, currency: 'CNY' });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<PayoutAnswer>();
}

const journalsOf = async (payoutId: string) =>
  t.count('ledger_journals', sql`source_key = ${`payout:${payoutId}`}`);

async function expectLedgerBalanced() {
  const balance = await t.kit.expectStatus<{
    totals: { currency: string; balance: number }[];
    unbalancedJournals: number;
  }>(200, 'GET', '/api/v1/admin/ledger/trial-balance', { as: t.admin });
  expect(balance.unbalancedJournals).toBe(0);
  expect(balance.totals.length).toBeGreaterThan(0);
  for (const total of balance.totals) expect(total.balance).toBe(0);
}

/** Everything a refused request could have written. */
const footprint = async () => ({
  payouts: await t.count('payouts'),
  transitions: await t.count('payout_transitions'),
  journals: await t.count('ledger_journals'),
  payoutStates: (
    await sql<{ id: string; status: string }>`select id, status from commerce.payouts order by id`.execute(
      t.kit.app.platform.database.db,
    )
  ).rows,
});

function expectProblem(res: { statusCode: number; headers: Record<string, unknown> }, status: number) {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/application\/problem\+json/);
}

describe('the balance', () => {
  it('keeps earnings inside the refund window pending, and makes them available after it', async () => {
    const instructor = await t.kit.caller('instructor');
    await sale(instructor, 10_000);
    expect(await balanceOf(instructor)).toEqual({
      currency: 'CNY',
      earned: 7000,
      pending: 7000,
      reserved: 0,
      paidOut: 0,
      available: 0,
    });
    const before = await footprint();
    const refused = await requestPayout(instructor, { amount: 1, currency: 'CNY' });
    expectProblem(refused, 409);
    expect(refused.json()).toMatchObject({
      code: 'commerce.payout-exceeds-available',
      detail: 'Only 0 (minor units of CNY) is available for a payout.',
    });
    expect(await footprint()).toEqual(before);

    t.clock.advance(WINDOW_DAYS * 86_400 - 60);
    expect(await balanceOf(instructor)).toMatchObject({ pending: 7000, available: 0 });
    t.clock.advance(61);
    expect(await balanceOf(instructor)).toEqual({
      currency: 'CNY',
      earned: 7000,
      pending: 0,
      reserved: 0,
      paidOut: 0,
      available: 7000,
    });
  });

  it('lowers what is available at once when a sale is refunded, and refuses a request above it', async () => {
    const instructor = await t.kit.caller('instructor');
    const first = await sale(instructor, 10_000);
    await sale(instructor, 20_000);
    t.clock.advance(PAST_WINDOW);
    expect(await balanceOf(instructor)).toMatchObject({ earned: 21_000, available: 21_000 });

    const refund = await t.kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/admin/orders/${first}/refunds`,
      { as: t.admin, body: { reason: 'goodwill' } },
    );
    await t.sendRefund(refund.id);
    expect(await balanceOf(instructor)).toEqual({
      currency: 'CNY',
      earned: 14_000,
      pending: 0,
      reserved: 0,
      paidOut: 0,
      available: 14_000,
    });

    const before = await footprint();
    const above = await requestPayout(instructor, { amount: 14_001, currency: 'CNY' });
    expectProblem(above, 409);
    expect(above.json()).toMatchObject({
      code: 'commerce.payout-exceeds-available',
      detail: 'Only 14000 (minor units of CNY) is available for a payout.',
    });
    // a real currency the instructor earned nothing in has nothing available
    expectProblem(await requestPayout(instructor, { amount: 1, currency: 'USD' }), 409);
    expect(await footprint()).toEqual(before);
  });
});

describe('requests', () => {
  it('lets exactly one of 10 concurrent requests for everything available through', async () => {
    const instructor = await instructorWithAvailable(10_000);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => requestPayout(instructor, { amount: 7000, currency: 'CNY' })),
    );
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([201, ...Array.from({ length: 9 }, () => 409)]);
    for (const refused of answers.filter((a) => a.statusCode !== 201)) {
      expect(refused.json()).toMatchObject({ code: 'commerce.payout-exceeds-available' });
    }
    expect(await balanceOf(instructor)).toMatchObject({ reserved: 7000, available: 0 });
    expect(await t.count('payouts', sql`instructor_id = ${instructor.id}`)).toBe(1);
  });

  it('answers a retried request with the same Idempotency-Key with the same payout, reserving once', async () => {
    const instructor = await instructorWithAvailable(10_000);
    const key = randomUUID();
    const first = await requestPayout(instructor, { amount: 3000, currency: 'CNY' }, key);
    const again = await requestPayout(instructor, { amount: 3000, currency: 'CNY' }, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json<PayoutAnswer>().id).toBe(first.json<PayoutAnswer>().id);
    expect(await balanceOf(instructor)).toMatchObject({ reserved: 3000, available: 4000 });
  });

  it('lists my payouts newest first, a page at a time, and no one else’s', async () => {
    const instructor = await instructorWithAvailable(10_000);
    const other = await instructorWithAvailable(10_000);
    const made = [
      await requested(instructor, 100),
      await requested(instructor, 200),
      await requested(instructor, 300),
    ];
    await requested(other, 100);
    const seen: PayoutAnswer[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: PayoutAnswer[]; nextCursor: string | null } = await t.kit.expectStatus(
        200,
        'GET',
        `/api/v1/payouts?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { as: instructor },
      );
      seen.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((p) => p.id).sort()).toEqual(made.map((p) => p.id).sort());
    expect(seen.every((p) => p.decidedBy === undefined)).toBe(true);
    const mine = await t.kit.expectStatus<PayoutAnswer>(200, 'GET', `/api/v1/payouts/${made[0]?.id}`, {
      as: instructor,
    });
    expect(mine.transitions).toEqual([
      expect.objectContaining({ from: null, to: 'requested', actorKind: 'user' }),
    ]);
  });
});

describe('decisions', () => {
  it('books a paid payout as a balanced journal payout:<id> and announces it; a second paid is a 409', async () => {
    const instructor = await instructorWithAvailable(10_000);
    const payout = await requested(instructor, 5000);
    const paid = await t.kit.expectStatus<PayoutAnswer>(
      200,
      'POST',
      `/api/v1/admin/payouts/${payout.id}/paid`,
      {
        as: t.admin,
        body: { reference: 'ICBC-2026-0001' },
      },
    );
    expect(paid).toMatchObject({ status: 'paid', reference: 'ICBC-2026-0001', decidedBy: t.admin.id });
    expect(paid.transitions.map((x) => [x.from, x.to, x.actorKind])).toEqual([
      [null, 'requested', 'user'],
      ['requested', 'paid', 'admin'],
    ]);
    expect(await journalsOf(payout.id)).toBe(1);
    const postings = await sql<{ account: string; instructor_id: string | null; amount: number }>`
      select p.account, p.instructor_id, p.amount from commerce.ledger_postings p
      join commerce.ledger_journals j on j.id = p.journal_id
      where j.source_key = ${`payout:${payout.id}`} order by p.amount`.execute(
      t.kit.app.platform.database.db,
    );
    expect(postings.rows).toEqual([
      { account: 'payout_clearing', instructor_id: null, amount: -5000 },
      { account: 'instructor_payable', instructor_id: instructor.id, amount: 5000 },
    ]);
    await expectLedgerBalanced();
    const events = (await t.kit.outbox('commerce', 'commerce.payout.paid')).filter(
      (e) => e.aggregateId === payout.id,
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({
      payoutId: payout.id,
      instructorId: instructor.id,
      amount: 5000,
      currency: 'CNY',
      reference: 'ICBC-2026-0001',
    });
    expect(await balanceOf(instructor)).toEqual({
      currency: 'CNY',
      earned: 7000,
      pending: 0,
      reserved: 0,
      paidOut: 5000,
      available: 2000,
    });
    // earnings are what was earned: paying them out does not lower them
    const earnings = await t.kit.expectStatus<{ earnings: { net: number }[] }>(
      200,
      'GET',
      '/api/v1/earnings',
      {
        as: instructor,
      },
    );
    expect(earnings.earnings).toEqual([expect.objectContaining({ currency: 'CNY', net: 7000 })]);

    const before = await footprint();
    const again = await t.kit.request('POST', `/api/v1/admin/payouts/${payout.id}/paid`, {
      as: t.admin,
      body: { reference: 'ICBC-2026-0002' },
    });
    expectProblem(again, 409);
    expect(again.json()).toMatchObject({ code: 'commerce.payout-not-requested' });
    const reject = await t.kit.request('POST', `/api/v1/admin/payouts/${payout.id}/reject`, {
      as: t.admin,
      body: { reason: 'too late' },
    });
    expectProblem(reject, 409);
    expect(await footprint()).toEqual(before);
    expect(await journalsOf(payout.id)).toBe(1);
    expect(
      (await t.kit.outbox('commerce', 'commerce.payout.paid')).filter((e) => e.aggregateId === payout.id),
    ).toHaveLength(1);
  });

  it('answers a retried decision or cancel with the same Idempotency-Key as the first time, booking once', async () => {
    const instructor = await instructorWithAvailable(10_000);
    const payout = await requested(instructor, 5000);
    const paid = (reference: string, key: string) =>
      t.kit.request('POST', `/api/v1/admin/payouts/${payout.id}/paid`, {
        as: t.admin,
        body: { reference },
        headers: { 'idempotency-key': key },
      });
    const key = randomUUID();
    const first = await paid('ICBC-2026-0101', key);
    expect(first.statusCode, first.body).toBe(200);
    const again = await paid('ICBC-2026-0101', key);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(again.json<PayoutAnswer>()).toMatchObject({ status: 'paid', reference: 'ICBC-2026-0101' });
    expect(await journalsOf(payout.id)).toBe(1);
    const paidEvents = async () =>
      (await t.kit.outbox('commerce', 'commerce.payout.paid')).filter((e) => e.aggregateId === payout.id);
    expect(await paidEvents()).toHaveLength(1);

    // the same key with another body is the platform's mismatch, and changes nothing
    const before = await footprint();
    const reused = await paid('ICBC-2026-0102', key);
    expectProblem(reused, 409);
    expect(reused.json()).toMatchObject({ code: 'idempotency.key-reused' });
    expect(await footprint()).toEqual(before);
    expect(await paidEvents()).toHaveLength(1);
    expect(await balanceOf(instructor)).toMatchObject({ paidOut: 5000, available: 2000 });

    const toReject = await requested(instructor, 1000);
    const reject = (key: string) =>
      t.kit.request('POST', `/api/v1/admin/payouts/${toReject.id}/reject`, {
        as: t.admin,
        body: { reason: 'bank details missing' },
        headers: { 'idempotency-key': key },
      });
    const rejectKey = randomUUID();
    const rejected = await reject(rejectKey);
    expect(rejected.statusCode, rejected.body).toBe(200);
    const rejectedAgain = await reject(rejectKey);
    expect(rejectedAgain.statusCode, rejectedAgain.body).toBe(200);
    expect(rejectedAgain.headers['idempotent-replayed']).toBe('true');
    expect(rejectedAgain.json()).toEqual(rejected.json());
    expect(
      (await t.kit.outbox('commerce', 'commerce.payout.rejected')).filter(
        (e) => e.aggregateId === toReject.id,
      ),
    ).toHaveLength(1);

    const toCancel = await requested(instructor, 1000);
    const cancel = (key: string) =>
      t.kit.request('POST', `/api/v1/payouts/${toCancel.id}/cancel`, {
        as: instructor,
        headers: { 'idempotency-key': key },
      });
    const cancelKey = randomUUID();
    const cancelled = await cancel(cancelKey);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    const cancelledAgain = await cancel(cancelKey);
    expect(cancelledAgain.statusCode, cancelledAgain.body).toBe(200);
    expect(cancelledAgain.headers['idempotent-replayed']).toBe('true');
    expect(cancelledAgain.json()).toEqual(cancelled.json());
    expect(await t.count('payout_transitions', sql`payout_id = ${toCancel.id}`)).toBe(2);
    expect(await balanceOf(instructor)).toMatchObject({ reserved: 0, paidOut: 5000, available: 2000 });
  });

  it('frees the reservation when an admin rejects a request or the instructor cancels it', async () => {
    const instructor = await instructorWithAvailable(10_000);
    const first = await requested(instructor, 7000);
    expect(await balanceOf(instructor)).toMatchObject({ reserved: 7000, available: 0 });
    const rejected = await t.kit.expectStatus<PayoutAnswer>(
      200,
      'POST',
      `/api/v1/admin/payouts/${first.id}/reject`,
      { as: t.admin, body: { reason: 'bank details missing' } },
    );
    expect(rejected).toMatchObject({ status: 'rejected', rejectionReason: 'bank details missing' });
    expect(rejected.transitions.at(-1)).toMatchObject({
      to: 'rejected',
      actorKind: 'admin',
      reason: 'bank details missing',
    });
    expect(await balanceOf(instructor)).toMatchObject({ reserved: 0, available: 7000 });
    const events = (await t.kit.outbox('commerce', 'commerce.payout.rejected')).filter(
      (e) => e.aggregateId === first.id,
    );
    expect(events.map((e) => e.data)).toEqual([
      expect.objectContaining({
        payoutId: first.id,
        instructorId: instructor.id,
        amount: 7000,
        reason: 'bank details missing',
      }),
    ]);
    expect(await journalsOf(first.id)).toBe(0);

    const second = await requested(instructor, 6000);
    expect(await balanceOf(instructor)).toMatchObject({ reserved: 6000, available: 1000 });
    const cancelled = await t.kit.expectStatus<PayoutAnswer>(
      200,
      'POST',
      `/api/v1/payouts/${second.id}/cancel`,
      {
        as: instructor,
      },
    );
    expect(cancelled.status).toBe('cancelled');
    expect(await balanceOf(instructor)).toMatchObject({ reserved: 0, available: 7000 });
    expectProblem(
      await t.kit.request('POST', `/api/v1/payouts/${second.id}/cancel`, { as: instructor }),
      409,
    );

    const admins = await t.kit.expectStatus<{ data: PayoutAnswer[] }>(
      200,
      'GET',
      '/api/v1/admin/payouts?status=cancelled&limit=100',
      { as: t.admin },
    );
    expect(admins.data.map((p) => p.id)).toContain(second.id);
    expect(admins.data.every((p) => p.status === 'cancelled')).toBe(true);
  });
});

describe('who may', () => {
  it("answers 404 for another instructor's payout and 403 to learners and to non-admins on admin routes", async () => {
    const owner = await instructorWithAvailable(10_000);
    const payout = await requested(owner, 1000);
    const other = await t.kit.caller('instructor');
    const before = await footprint();
    expectProblem(await t.kit.request('POST', `/api/v1/payouts/${payout.id}/cancel`, { as: other }), 404);
    expectProblem(await t.kit.request('GET', `/api/v1/payouts/${payout.id}`, { as: other }), 404);
    const unknown = randomUUID();
    expectProblem(await t.kit.request('POST', `/api/v1/payouts/${unknown}/cancel`, { as: other }), 404);
    expectProblem(
      await t.kit.request('POST', `/api/v1/admin/payouts/${unknown}/paid`, {
        as: t.admin,
        body: { reference: 'x' },
      }),
      404,
    );

    const learner = await t.kit.caller('learner');
    expectProblem(await t.kit.request('GET', '/api/v1/payouts/balance', { as: learner }), 403);
    expectProblem(await t.kit.request('GET', '/api/v1/payouts', { as: learner }), 403);
    expectProblem(await requestPayout(learner, { amount: 1, currency: 'CNY' }), 403);
    expectProblem(await t.kit.request('POST', `/api/v1/payouts/${payout.id}/cancel`, { as: learner }), 403);
    expectProblem(await t.kit.request('GET', '/api/v1/admin/payouts', { as: owner }), 403);
    expectProblem(
      await t.kit.request('POST', `/api/v1/admin/payouts/${payout.id}/paid`, {
        as: owner,
        body: { reference: 'x' },
      }),
      403,
    );
    expectProblem(
      await t.kit.request('POST', `/api/v1/admin/payouts/${payout.id}/reject`, {
        as: owner,
        body: { reason: 'x' },
      }),
      403,
    );
    expectProblem(await t.kit.request('GET', '/api/v1/payouts/balance'), 401);
    expect(await footprint()).toEqual(before);
  });
});

describe('malformed input', () => {
  it('answers 400 problem+json and changes nothing', async () => {
    const instructor = await instructorWithAvailable(10_000);
    const payout = await requested(instructor, 1000);
    const before = await footprint();
    const balance = await balanceOf(instructor);

    const bodies: unknown[] = [
      { amount: -1, currency: 'CNY' },
      { amount: 0, currency: 'CNY' },
      { amount: 1e20, currency: 'CNY' },
      { amount: 1.5, currency: 'CNY' },
      { amount: '1 000', currency: 'CNY' },
      { amount: 100, currency: 'cny' },
      { amount: 100, currency: 'XXX' },
      { amount: 100, currency: 'ABC' },
      { amount: 100, currency: 'CN\u0000' },
      { amount: 100 },
      { currency: 'CNY' },
      { amount: 100, currency: 'CNY', instructorId: randomUUID() },
    ];
    for (const body of bodies) {
      const res = await requestPayout(instructor, body);
      expectProblem(res, 400);
    }
    const currency = await requestPayout(instructor, { amount: 100, currency: 'XXX' });
    expect(currency.json()).toMatchObject({ code: 'commerce.payout-currency-invalid' });

    for (const body of [{ reference: 'ab\u0000cd' }, { reference: '' }, { reference: '   ' }, {}]) {
      expectProblem(
        await t.kit.request('POST', `/api/v1/admin/payouts/${payout.id}/paid`, { as: t.admin, body }),
        400,
      );
    }
    for (const body of [{ reason: 'no\u0000' }, { reason: '' }, {}]) {
      expectProblem(
        await t.kit.request('POST', `/api/v1/admin/payouts/${payout.id}/reject`, { as: t.admin, body }),
        400,
      );
    }
    for (const path of ['/payouts/not-a-uuid/cancel', '/payouts/1/cancel']) {
      expectProblem(await t.kit.request('POST', `/api/v1${path}`, { as: instructor }), 400);
    }
    expectProblem(
      await t.kit.request('POST', '/api/v1/admin/payouts/not-a-uuid/paid', {
        as: t.admin,
        body: { reference: 'x' },
      }),
      400,
    );
    expectProblem(
      await t.kit.request('POST', '/api/v1/admin/payouts/not-a-uuid/reject', {
        as: t.admin,
        body: { reason: 'x' },
      }),
      400,
    );
    const forged = [
      'bm9wZQ',
      encodeCursor(['not-a-date', randomUUID()]),
      encodeCursor([new Date().toISOString(), 'not-a-uuid']),
      encodeCursor([new Date().toISOString()]),
    ];
    for (const cursor of forged) {
      expectProblem(await t.kit.request('GET', `/api/v1/payouts?cursor=${cursor}`, { as: instructor }), 400);
      expectProblem(
        await t.kit.request('GET', `/api/v1/admin/payouts?cursor=${cursor}`, { as: t.admin }),
        400,
      );
    }
    expectProblem(await t.kit.request('GET', '/api/v1/admin/payouts?status=lost', { as: t.admin }), 400);
    expectProblem(await t.kit.request('GET', '/api/v1/payouts?limit=0', { as: instructor }), 400);

    expect(await footprint()).toEqual(before);
    expect(await balanceOf(instructor)).toEqual(balance);
  });
});
