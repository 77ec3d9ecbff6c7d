import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommerceTest, startCommerce } from './coupons.test-support.js';
import { createLedgerService, type SaleLine } from './ledger.service.js';

let t: CommerceTest;
beforeAll(async () => {
  t = await startCommerce({ COMMERCE_PLATFORM_FEE_BPS: '3000' });
});
afterAll(async () => {
  await t.stop();
});

const sale = (orderId: string, lines: SaleLine[], currency = 'CNY') =>
  t.db
    .transaction()
    .execute((trx) => t.ledger.recordSale(trx, { orderId, currency, occurredAt: t.clock(), lines }));

const refund = (orderId: string, lines: { courseId: string; amount: number }[], currency = 'CNY') =>
  t.db
    .transaction()
    .execute((trx) =>
      t.ledger.recordRefund(trx, { refundId: randomUUID(), orderId, currency, occurredAt: t.clock(), lines }),
    );

const earningsOf = async (instructorId: string) => {
  const rows = await t.ledger.instructorEarnings(instructorId, {});
  return rows.find((r) => r.currency === 'CNY');
};

async function expectBalanced() {
  const balance = await t.ledger.trialBalance();
  expect(balance.unbalancedJournals).toBe(0);
  // an empty ledger would pass the loop below: the books must hold something to balance
  expect(balance.totals.length).toBeGreaterThan(0);
  for (const total of balance.totals) expect(total.balance).toBe(0);
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from (
      select journal_id from commerce.ledger_postings group by journal_id, currency having sum(amount) <> 0
    ) u`.execute(t.db);
  expect(rows[0]?.n).toBe(0);
}

describe('sales', () => {
  it('splits each line into the platform fee and equal instructor shares, losing no cent', async () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const course1 = randomUUID();
    const course2 = randomUUID();
    expect(
      await sale(randomUUID(), [
        // fee 30 % of 1001 = 300.3 → 300; 701 over three instructors → 234, 234, 233
        { courseId: course1, amount: 1001, instructorIds: [a, b, c] },
        { courseId: course2, amount: 500, instructorIds: [a] },
      ]),
    ).toBe(true);
    expect(await earningsOf(a)).toEqual({ currency: 'CNY', sales: 234 + 350, refunds: 0, net: 584 });
    expect(await earningsOf(b)).toMatchObject({ net: 234 });
    expect(await earningsOf(c)).toMatchObject({ net: 233 });
    await expectBalanced();
  });

  it('books a sale once however often it is attempted, also concurrently', async () => {
    const orderId = randomUUID();
    const instructor = randomUUID();
    const lines = [{ courseId: randomUUID(), amount: 9900, instructorIds: [instructor] }];
    const results = await Promise.all(Array.from({ length: 20 }, () => sale(orderId, lines)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const journals = await t.db
      .selectFrom('commerce.ledger_journals')
      .select('id')
      .where('order_id', '=', orderId)
      .execute();
    expect(journals).toHaveLength(1);
    expect(await earningsOf(instructor)).toMatchObject({ sales: 6930, net: 6930 });
  });
});

describe('refunds', () => {
  it('reverses in proportion; partial refunds that add up to the line reverse it exactly', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const orderId = randomUUID();
    const course = randomUUID();
    const other = randomUUID();
    await sale(orderId, [
      { courseId: course, amount: 999, instructorIds: [a, b] },
      { courseId: other, amount: 100, instructorIds: [a] },
    ]);
    // fee 300 (299.7 → 300), shares 350 + 349; other: fee 30, a 70
    expect(await earningsOf(a)).toMatchObject({ net: 350 + 70 });
    for (const amount of [1, 1, 333, 7]) {
      await refund(orderId, [{ courseId: course, amount }]);
      await expectBalanced();
    }
    await refund(orderId, [{ courseId: course, amount: 999 - 342 }]);
    await expectBalanced();
    // the whole line is back: only the other course's share is left
    expect(await earningsOf(a)).toMatchObject({ sales: 420, refunds: 350, net: 70 });
    expect(await earningsOf(b)).toMatchObject({ sales: 349, refunds: 349, net: 0 });
    const revenue = await t.db
      .selectFrom('commerce.ledger_postings as p')
      .innerJoin('commerce.ledger_journals as j', 'j.id', 'p.journal_id')
      .select(sql<number>`sum(p.amount)::bigint`.as('sum'))
      .where('j.order_id', '=', orderId)
      .where('p.account', '=', 'platform_revenue')
      .executeTakeFirstOrThrow();
    expect(revenue.sum).toBe(-30);
  });

  it("names the sale's fee rate on a refund booked after the platform fee changed", async () => {
    const orderId = randomUUID();
    const course = randomUUID();
    const instructor = randomUUID();
    await sale(orderId, [{ courseId: course, amount: 1000, instructorIds: [instructor] }]);
    const later = createLedgerService({ db: t.db, platformFeeBps: 2000 });
    await t.db.transaction().execute((trx) =>
      later.recordRefund(trx, {
        refundId: randomUUID(),
        orderId,
        currency: 'CNY',
        occurredAt: t.clock(),
        lines: [{ courseId: course, amount: 500 }],
      }),
    );
    const journals = await t.db
      .selectFrom('commerce.ledger_journals')
      .select(['kind', 'fee_bps'])
      .where('order_id', '=', orderId)
      .orderBy('kind', 'desc')
      .execute();
    expect(journals).toEqual([
      { kind: 'sale', fee_bps: 3000 },
      { kind: 'refund', fee_bps: 3000 },
    ]);
    // the postings reverse the sale's split: half of the 300 fee and half of the 700 share
    expect(await earningsOf(instructor)).toMatchObject({ sales: 700, refunds: 350, net: 350 });
    await expectBalanced();
  });

  it('refuses to reverse more than the line was paid, writing nothing', async () => {
    const orderId = randomUUID();
    const course = randomUUID();
    await sale(orderId, [{ courseId: course, amount: 1000, instructorIds: [randomUUID()] }]);
    await refund(orderId, [{ courseId: course, amount: 600 }]);
    await expect(refund(orderId, [{ courseId: course, amount: 401 }])).rejects.toThrow(/exceeds/);
    const journals = await t.db
      .selectFrom('commerce.ledger_journals')
      .select('id')
      .where('order_id', '=', orderId)
      .execute();
    expect(journals).toHaveLength(2);
    await expectBalanced();
  });
});

describe('reports', () => {
  it("shows an instructor their own earnings by period and currency, and admins everyone's", async () => {
    const me = await t.kit.caller('instructor');
    const start = t.clock();
    await sale(randomUUID(), [{ courseId: randomUUID(), amount: 1000, instructorIds: [me.id] }]);
    t.clock.advance(86_400);
    const mid = t.clock();
    await sale(randomUUID(), [{ courseId: randomUUID(), amount: 2000, instructorIds: [me.id] }], 'USD');
    await sale(randomUUID(), [{ courseId: randomUUID(), amount: 500, instructorIds: [me.id] }]);

    const all = await t.kit.expectStatus<{ earnings: { currency: string; net: number }[] }>(
      200,
      'GET',
      '/api/v1/earnings',
      { as: me },
    );
    expect(all.earnings).toEqual([
      { currency: 'CNY', sales: 1050, refunds: 0, net: 1050 },
      { currency: 'USD', sales: 1400, refunds: 0, net: 1400 },
    ]);
    const first = await t.kit.expectStatus<{ earnings: unknown[] }>(
      200,
      'GET',
      `/api/v1/earnings?from=${start.toISOString()}&to=${mid.toISOString()}`,
      { as: me },
    );
    expect(first.earnings).toEqual([{ currency: 'CNY', sales: 700, refunds: 0, net: 700 }]);
    const backwards = await t.kit.request(
      'GET',
      `/api/v1/earnings?from=${mid.toISOString()}&to=${start.toISOString()}`,
      { as: me },
    );
    expect(backwards.statusCode).toBe(400);

    const rows: { instructorId: string; currency: string; net: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: { data: typeof rows; nextCursor: string | null } = await t.kit.expectStatus(
        200,
        'GET',
        `/api/v1/admin/earnings?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { as: t.admin },
      );
      rows.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor);
    expect(rows.filter((r) => r.instructorId === me.id)).toEqual([
      { instructorId: me.id, currency: 'CNY', sales: 1050, refunds: 0, net: 1050 },
      { instructorId: me.id, currency: 'USD', sales: 1400, refunds: 0, net: 1400 },
    ]);
    expect(new Set(rows.map((r) => `${r.instructorId}/${r.currency}`)).size).toBe(rows.length);

    expect((await t.kit.request('GET', '/api/v1/admin/earnings', { as: me })).statusCode).toBe(403);
    expect((await t.kit.request('GET', '/api/v1/earnings', { as: t.learner })).statusCode).toBe(403);
    const forged = await t.kit.request('GET', '/api/v1/admin/earnings?cursor=bm9wZQ', { as: t.admin });
    expect(forged.statusCode).toBe(400);
  });

  it('has a trial balance that sums to zero in every currency', async () => {
    const balance = await t.kit.expectStatus<{
      accounts: { account: string; currency: string; balance: number }[];
      totals: { currency: string; balance: number }[];
      unbalancedJournals: number;
    }>(200, 'GET', '/api/v1/admin/ledger/trial-balance', { as: t.admin });
    expect(balance.totals.map((x) => x.currency).sort()).toEqual(['CNY', 'USD']);
    for (const total of balance.totals) expect(total.balance).toBe(0);
    expect(balance.unbalancedJournals).toBe(0);
    const clearing = balance.accounts.find((a) => a.account === 'provider_clearing' && a.currency === 'CNY');
    expect(clearing?.balance).toBeGreaterThan(0);
  });
});

describe('payouts', () => {
  it('books a payout with no fee rate, and its postings come back with numeric ids', async () => {
    const instructor = randomUUID();
    const payoutId = randomUUID();
    await sale(randomUUID(), [{ courseId: randomUUID(), amount: 10_000, instructorIds: [instructor] }]);
    const journalId = await t.db.transaction().execute((trx) =>
      t.ledger.recordPayout(trx, {
        payoutId,
        instructorId: instructor,
        amount: 4000,
        currency: 'CNY',
        occurredAt: t.clock(),
      }),
    );
    expect(journalId).toEqual(expect.any(String));
    const journal = await t.db
      .selectFrom('commerce.ledger_journals')
      .select(['kind', 'fee_bps'])
      .where('source_key', '=', `payout:${payoutId}`)
      .executeTakeFirstOrThrow();
    // nothing of a payout goes to platform_revenue: the sales' rate would read as a fee taken
    expect(journal).toEqual({ kind: 'payout', fee_bps: 0 });

    const postings = await t.db
      .selectFrom('commerce.ledger_postings')
      .select(['id', 'account', 'amount'])
      .where('journal_id', '=', journalId ?? '')
      .orderBy('id')
      .execute();
    // bigserial ids: the pg driver's int8 parser (platform/db) makes them numbers, as the table type says
    const ids: number[] = postings.map((p) => p.id);
    for (const id of ids) expect(typeof id).toBe('number');
    expect(postings.map((p) => [p.account, p.amount])).toEqual([
      ['instructor_payable', 4000],
      ['payout_clearing', -4000],
    ]);
    // a payout pays earnings out; it does not lower them
    expect(await earningsOf(instructor)).toEqual({ currency: 'CNY', sales: 7000, refunds: 0, net: 7000 });
    await expectBalanced();
  });
});
