import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { databaseForFile } from '../../../test/helpers/database.js';
import { outboxRow } from '../../platform/messaging/outbox.js';
import { OrderPaidEvent } from './commerce.events.js';
import { createLedgerService } from './ledger.service.js';
import { commerceMigrations } from './migrations/index.js';
import { insertPendingOrder } from './orders.test-support.js';
import { insertPaymentIfPayable } from './payments.queries.js';
import { type PaidSettlement, settlePaid } from './settlement.queries.js';
import type { CommerceTables } from './tables.js';

const file = databaseForFile<CommerceTables>([{ schema: 'commerce', migrations: commerceMigrations }]);
const ledger = () => createLedgerService({ db: file.db, platformFeeBps: 3000 });

const AT = new Date('2026-12-06T10:00:00.000Z');

/** A pending order of one 9,900 CNY course, and its sandbox payment. */
async function pendingOrder(): Promise<{ orderId: string; paymentId: string; userId: string }> {
  const userId = randomUUID();
  const inserted = await insertPendingOrder(file.db, { userId, courseIds: [randomUUID()], at: AT });
  if (!inserted) throw new Error('no order');
  const orderId = inserted.order.id;
  const { payment } = await insertPaymentIfPayable(file.db, { orderId, userId, provider: 'sandbox', at: AT });
  if (!payment) throw new Error('no payment');
  return { orderId, paymentId: payment.id, userId };
}

function settlementOf(
  o: { orderId: string; paymentId: string; userId: string },
  change: { amount?: number; txn?: string } = {},
): PaidSettlement {
  const line = { courseId: randomUUID(), amount: 9900, instructorIds: [randomUUID(), randomUUID()] };
  const { journal, postings } = ledger().saleEntry({
    orderId: o.orderId,
    currency: 'CNY',
    occurredAt: AT,
    lines: [line],
  });
  const event = outboxRow(
    OrderPaidEvent.create(o.orderId, {
      orderId: o.orderId,
      userId: o.userId,
      lines: [{ ...line, title: 'A course' }],
      total: 9900,
      currency: 'CNY',
      provider: 'sandbox',
      paidAt: AT.toISOString(),
    }),
  );
  return {
    paymentId: o.paymentId,
    orderId: o.orderId,
    provider: 'sandbox',
    amount: change.amount ?? 9900,
    currency: 'CNY',
    providerTxnId: change.txn ?? `sbt_${randomUUID()}`,
    succeededAt: AT,
    payerSealed: null,
    at: AT,
    reason: `payment ${o.paymentId} succeeded`,
    journal,
    postings: JSON.stringify(postings),
    event,
    notification: {
      notification_id: `n_${randomUUID()}`,
      kind: 'payment.succeeded',
      fields: '{}',
      outcome: 'applied',
    },
  };
}

/** What a settlement left behind for the order: counted, so "nothing" is zero everywhere. */
async function written(orderId: string, paymentId: string) {
  const order = await file.db
    .selectFrom('commerce.orders')
    .select(['status', 'paid_at', 'provider'])
    .where('id', '=', orderId)
    .executeTakeFirstOrThrow();
  const payment = await file.db
    .selectFrom('commerce.payments')
    .select(['status', 'provider_txn_id'])
    .where('id', '=', paymentId)
    .executeTakeFirstOrThrow();
  const { rows } = await sql<{
    paidTransitions: number;
    pendingLines: number;
    journals: number;
    events: number;
    notifications: number;
  }>`select
      (select count(*) from commerce.order_transitions where order_id = ${orderId} and to_status = 'paid')::int as "paidTransitions",
      (select count(*) from commerce.order_lines where order_id = ${orderId} and pending)::int as "pendingLines",
      (select count(*) from commerce.ledger_journals where order_id = ${orderId})::int as journals,
      (select count(*) from commerce.outbox where aggregate_id = ${orderId})::int as events,
      (select count(*) from commerce.notifications where payment_id = ${paymentId})::int as notifications`.execute(
    file.db,
  );
  return { order, payment, ...rows[0] };
}

describe('the paid settlement statement', () => {
  it('settles a pending order: payment, order, transition, lines, balanced journal, event and notification', async () => {
    const o = await pendingOrder();
    const s = settlementOf(o);
    expect(await settlePaid(file.db, s)).toEqual({ matched: true, paid: true, recorded: true });
    const w = await written(o.orderId, o.paymentId);
    expect(w.order).toMatchObject({ status: 'paid', provider: 'sandbox' });
    expect(w.order.paid_at?.toISOString()).toBe(AT.toISOString());
    expect(w.payment).toEqual({ status: 'succeeded', provider_txn_id: s.providerTxnId });
    expect(w).toMatchObject({
      paidTransitions: 1,
      pendingLines: 0,
      journals: 1,
      events: 1,
      notifications: 1,
    });
    const postings = await file.db
      .selectFrom('commerce.ledger_postings as p')
      .innerJoin('commerce.ledger_journals as j', 'j.id', 'p.journal_id')
      .select(['p.account', 'p.amount'])
      .where('j.order_id', '=', o.orderId)
      .execute();
    expect(postings.reduce((sum, p) => sum + p.amount, 0)).toBe(0);
    expect(postings.map((p) => p.account).sort()).toEqual([
      'instructor_payable',
      'instructor_payable',
      'platform_revenue',
      'provider_clearing',
    ]);
    const event = await file.database.db
      .withTables<{ 'commerce.outbox': { aggregate_id: string; type: string; data: unknown } }>()
      .selectFrom('commerce.outbox')
      .select(['type', 'data'])
      .where('aggregate_id', '=', o.orderId)
      .executeTakeFirstOrThrow();
    expect(event).toMatchObject({ type: 'commerce.order.paid', data: { orderId: o.orderId, total: 9900 } });

    // the same settlement again finds the order paid: nothing more is written
    expect(await settlePaid(file.db, settlementOf(o))).toEqual({
      matched: false,
      paid: false,
      recorded: false,
    });
    expect(await written(o.orderId, o.paymentId)).toMatchObject({
      paidTransitions: 1,
      journals: 1,
      events: 1,
      notifications: 1,
    });
  });

  it('writes nothing for another amount, or a transaction id another payment holds', async () => {
    const o = await pendingOrder();
    expect(await settlePaid(file.db, settlementOf(o, { amount: 9800 }))).toEqual({
      matched: false,
      paid: false,
      recorded: false,
    });
    const other = await pendingOrder();
    const taken = settlementOf(other);
    expect((await settlePaid(file.db, taken)).paid).toBe(true);
    expect(await settlePaid(file.db, settlementOf(o, { txn: taken.providerTxnId }))).toEqual({
      matched: true,
      paid: false,
      recorded: false,
    });
    const w = await written(o.orderId, o.paymentId);
    expect(w.order.status).toBe('pending');
    expect(w.payment).toEqual({ status: 'pending', provider_txn_id: null });
    expect(w).toMatchObject({
      paidTransitions: 0,
      pendingLines: 1,
      journals: 0,
      events: 0,
      notifications: 0,
    });
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'waits for the order’s lock and checks the order as its holder committed it (cancelled: nothing written)',
    async () => {
      const o = await pendingOrder();
      let settled: Promise<unknown> | undefined;
      await file.db.transaction().execute(async (trx) => {
        await trx
          .selectFrom('commerce.orders')
          .select('id')
          .where('id', '=', o.orderId)
          .forUpdate()
          .execute();
        // begins while the order is pending in every snapshot, then waits for this lock
        settled = settlePaid(file.db, settlementOf(o));
        await new Promise((resolve) => setTimeout(resolve, 200));
        await trx
          .updateTable('commerce.orders')
          .set({ status: 'cancelled', updated_at: AT })
          .where('id', '=', o.orderId)
          .execute();
      });
      expect(await settled).toEqual({ matched: false, paid: false, recorded: false });
      const w = await written(o.orderId, o.paymentId);
      expect(w.order.status).toBe('cancelled');
      expect(w.payment.status).toBe('pending');
      expect(w).toMatchObject({ paidTransitions: 0, journals: 0, events: 0, notifications: 0 });
    },
  );
});
