import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { type ExportSections, pagedSection } from '../../platform/personal-data.js';
import { EARNING_KINDS, earningsOf } from './ledger.queries.js';
import { alongTheChain, linesOf } from './orders.queries.js';
import { payoutTransitionsOf } from './payouts.queries.js';
import type { CommerceTables } from './tables.js';

/**
 * What commerce holds about one user as a person, for their copy of their personal data (PIPL
 * Art. 45): their orders, payment attempts, refunds and coupon uses, and for an instructor their
 * earnings and payout requests. Everything is read with the handle given (the inbox transaction of the export event).
 *
 * Left out on purpose: secrets (the sealed payer is shown masked only; a payment's `action` holds
 * a Stripe client secret; provider credentials are never in the database), the providers' raw
 * notifications and the sandbox's simulated records (the provider's messages, already reflected
 * in the payments and refunds), and other people: no actor ids on transitions (an admin's id),
 * no instructor ids on order lines, no refund ids or learners on the instructor's postings.
 */

type Db = Kysely<CommerceTables>;

/** Shows a sealed payer identifier masked (given the payment it is sealed to), never in full. */
export type MaskPayer = (sealed: string, paymentId: string) => string;

const m = (amount: number, currency: string) => ({ amount, currency });

/** After this (created_at, id), in that order: the keyset of every section read by creation time. */
interface ByCreation {
  created_at: Date;
  id: string;
}

/** The next `size` rows after `after` in (created_at, id) order; `table` names the alias of a join. */
function byCreation<DB, TB extends keyof DB, O>(
  q: SelectQueryBuilder<DB, TB, O>,
  after: ByCreation | undefined,
  size: number,
  table?: string,
): SelectQueryBuilder<DB, TB, O> {
  const createdAt = sql.ref(table ? `${table}.created_at` : 'created_at');
  const id = sql.ref(table ? `${table}.id` : 'id');
  const next = after ? q.where(sql<boolean>`(${createdAt}, ${id}) > (${after.created_at}, ${after.id})`) : q;
  return next.orderBy(createdAt).orderBy(id).limit(size);
}

/** A status transition as the part shows it: no actor id (an admin's id is another person's). */
const toTransition = (t: {
  from_status: string | null;
  to_status: string;
  actor_kind: string;
  reason: string;
  at: Date;
}) => ({ from: t.from_status, to: t.to_status, actorKind: t.actor_kind, reason: t.reason, at: t.at });

async function ordersPage(db: Db, userId: string, after: ByCreation | undefined, size: number) {
  const q = db
    .selectFrom('commerce.orders')
    .select([
      'id',
      'status',
      'currency',
      'subtotal',
      'discount',
      'total',
      'coupon_code',
      'provider',
      'expires_at',
      'paid_at',
      'created_at',
      'updated_at',
    ])
    .where('user_id', '=', userId);
  const orders = await byCreation(q, after, size).execute();
  if (orders.length === 0) return [];
  const ids = orders.map((o) => o.id);
  const lines = await linesOf(db, ids);
  const transitions = await db
    .selectFrom('commerce.order_transitions')
    .select(['order_id', 'from_status', 'to_status', 'actor_kind', 'reason', 'at'])
    .where('order_id', 'in', ids)
    .orderBy('at')
    .orderBy('id')
    .execute();
  return orders.map((o) => ({
    ...o,
    lines: lines.filter((l) => l.order_id === o.id),
    transitions: alongTheChain(transitions.filter((t) => t.order_id === o.id)),
  }));
}

type OrderPageRow = Awaited<ReturnType<typeof ordersPage>>[number];

const toOrder = (o: OrderPageRow) => ({
  id: o.id,
  status: o.status,
  subtotal: m(o.subtotal, o.currency),
  discount: m(o.discount, o.currency),
  total: m(o.total, o.currency),
  couponCode: o.coupon_code,
  provider: o.provider,
  // instructor ids are left out: other people's ids, and the course id already names the line
  lines: o.lines.map((l) => ({
    courseId: l.course_id,
    title: l.title,
    listPrice: m(l.list_price, o.currency),
    amount: m(l.amount, o.currency),
  })),
  transitions: o.transitions.map(toTransition),
  createdAt: o.created_at,
  expiresAt: o.expires_at,
  paidAt: o.paid_at,
  updatedAt: o.updated_at,
});

/** The user's payment attempts, with the sealed payer (masked before it leaves this file). */
function paymentsPage(db: Db, userId: string, after: ByCreation | undefined, size: number) {
  const q = db
    .selectFrom('commerce.payments as p')
    .innerJoin('commerce.orders as o', 'o.id', 'p.order_id')
    .select([
      'p.id',
      'p.order_id',
      'p.provider',
      'p.amount',
      'p.currency',
      'p.status',
      'p.payer_sealed',
      'p.flagged',
      'p.flag_reason',
      'p.succeeded_at',
      'p.created_at',
      'p.updated_at',
    ])
    .where('o.user_id', '=', userId);
  return byCreation(q, after, size, 'p').execute();
}

type PaymentPageRow = Awaited<ReturnType<typeof paymentsPage>>[number];

const toPayment = (maskPayer: MaskPayer) => (p: PaymentPageRow) => ({
  id: p.id,
  orderId: p.order_id,
  provider: p.provider,
  amount: m(p.amount, p.currency),
  status: p.status,
  payer: p.payer_sealed === null ? null : maskPayer(p.payer_sealed, p.id),
  flagged: p.flagged,
  flagReason: p.flag_reason,
  createdAt: p.created_at,
  succeededAt: p.succeeded_at,
  updatedAt: p.updated_at,
});

async function refundsPage(db: Db, userId: string, after: ByCreation | undefined, size: number) {
  const q = db
    .selectFrom('commerce.refunds')
    .select([
      'id',
      'kind',
      'order_id',
      'payment_id',
      'provider',
      'amount',
      'currency',
      'status',
      'reason',
      'requested_by_kind',
      'consumed_bps',
      'review_reason',
      'decided_by_kind',
      'decision_reason',
      'decided_at',
      'failure_reason',
      'sent_at',
      'settled_at',
      'created_at',
      'updated_at',
    ])
    .where('user_id', '=', userId);
  const refunds = await byCreation(q, after, size).execute();
  if (refunds.length === 0) return [];
  const ids = refunds.map((r) => r.id);
  const lines = await db
    .selectFrom('commerce.refund_lines')
    .select(['refund_id', 'course_id', 'amount'])
    .where('refund_id', 'in', ids)
    .orderBy('refund_id')
    .orderBy('course_id')
    .execute();
  // the id is a sequence, so transitions written in one instant keep their order
  const transitions = await db
    .selectFrom('commerce.refund_transitions')
    .select(['refund_id', 'from_status', 'to_status', 'actor_kind', 'reason', 'at'])
    .where('refund_id', 'in', ids)
    .orderBy('id')
    .execute();
  return refunds.map((r) => ({
    ...r,
    lines: lines.filter((l) => l.refund_id === r.id),
    transitions: transitions.filter((t) => t.refund_id === r.id),
  }));
}

type RefundPageRow = Awaited<ReturnType<typeof refundsPage>>[number];

const toRefund = (r: RefundPageRow) => ({
  id: r.id,
  kind: r.kind,
  orderId: r.order_id,
  paymentId: r.payment_id,
  provider: r.provider,
  amount: m(r.amount, r.currency),
  status: r.status,
  reason: r.reason,
  requestedByKind: r.requested_by_kind,
  consumedShareBps: r.consumed_bps,
  reviewReason: r.review_reason,
  decidedByKind: r.decided_by_kind,
  decisionReason: r.decision_reason,
  failureReason: r.failure_reason,
  lines: r.lines.map((l) => ({ courseId: l.course_id, amount: m(l.amount, r.currency) })),
  transitions: r.transitions.map(toTransition),
  createdAt: r.created_at,
  decidedAt: r.decided_at,
  sentAt: r.sent_at,
  settledAt: r.settled_at,
  updatedAt: r.updated_at,
});

function couponRedemptionsPage(db: Db, userId: string, after: ByCreation | undefined, size: number) {
  const q = db
    .selectFrom('commerce.coupon_redemptions as r')
    .innerJoin('commerce.coupons as c', 'c.id', 'r.coupon_id')
    .select([
      'r.id',
      'c.code',
      'r.order_id',
      'r.discount',
      'r.currency',
      'r.status',
      'r.created_at',
      'r.released_at',
    ])
    .where('r.user_id', '=', userId);
  return byCreation(q, after, size, 'r').execute();
}

type RedemptionPageRow = Awaited<ReturnType<typeof couponRedemptionsPage>>[number];

const toRedemption = (r: RedemptionPageRow) => ({
  id: r.id,
  couponCode: r.code,
  orderId: r.order_id,
  discount: m(r.discount, r.currency),
  status: r.status,
  redeemedAt: r.created_at,
  releasedAt: r.released_at,
});

/**
 * An instructor's own postings (instructor_payable) of sales and refunds, in the order they were
 * booked: exactly what `earningsByCurrency` sums, so the section adds up to its totals. A paid
 * payout's posting is not an earning; the payout is in the `payouts` section.
 */
function earningsPage(db: Db, userId: string, after: { id: number } | undefined, size: number) {
  let q = db
    .selectFrom('commerce.ledger_postings as p')
    .innerJoin('commerce.ledger_journals as j', 'j.id', 'p.journal_id')
    .select(['p.id', 'j.kind', 'j.order_id', 'p.course_id', 'p.amount', 'p.currency', 'p.occurred_at'])
    .where('p.account', '=', 'instructor_payable')
    .where('p.instructor_id', '=', userId)
    .where('j.kind', 'in', EARNING_KINDS);
  if (after) q = q.where('p.id', '>', after.id);
  return q.orderBy('p.id').limit(size).execute();
}

type EarningPageRow = Awaited<ReturnType<typeof earningsPage>>[number];

const toEarning = (p: EarningPageRow) => ({
  // a string, as the part has always shown it and like its other ids
  id: String(p.id),
  kind: p.kind,
  orderId: p.order_id,
  courseId: p.course_id,
  // postings are signed debit-positive: what the instructor earned is the credit, so a sale is
  // positive and a refund's reversal negative
  amount: m(-p.amount, p.currency),
  occurredAt: p.occurred_at,
});

/** An instructor's payout requests; the admin who decided is another person, so not named. */
async function payoutsPage(db: Db, userId: string, after: ByCreation | undefined, size: number) {
  const q = db
    .selectFrom('commerce.payouts')
    .select([
      'id',
      'amount',
      'currency',
      'status',
      'reference',
      'rejection_reason',
      'decided_at',
      'created_at',
      'updated_at',
    ])
    .where('instructor_id', '=', userId);
  const payouts = await byCreation(q, after, size).execute();
  const transitions = await payoutTransitionsOf(
    db,
    payouts.map((p) => p.id),
  );
  return payouts.map((p) => ({ ...p, transitions: transitions.filter((t) => t.payout_id === p.id) }));
}

type PayoutPageRow = Awaited<ReturnType<typeof payoutsPage>>[number];

const toPayout = (p: PayoutPageRow) => ({
  id: p.id,
  amount: m(p.amount, p.currency),
  status: p.status,
  reference: p.reference,
  rejectionReason: p.rejection_reason,
  transitions: p.transitions.map(toTransition),
  requestedAt: p.created_at,
  decidedAt: p.decided_at,
  updatedAt: p.updated_at,
});

/**
 * The sections of commerce's part for `userId`. Every list is keyset-paged (each page its own
 * short query, `pageSize` rows), so nothing holds a cursor open and no list is held whole; the
 * pages are read while the part is written, so the handle must stay open until then.
 */
export function commercePersonalData(
  db: Db,
  userId: string,
  options: { maskPayer: MaskPayer; pageSize?: number },
): ExportSections {
  const size = options.pageSize;
  return {
    orders: pagedSection((after, n) => ordersPage(db, userId, after, n), toOrder, size),
    payments: pagedSection(
      (after, n) => paymentsPage(db, userId, after, n),
      toPayment(options.maskPayer),
      size,
    ),
    refunds: pagedSection((after, n) => refundsPage(db, userId, after, n), toRefund, size),
    couponRedemptions: pagedSection(
      (after, n) => couponRedemptionsPage(db, userId, after, n),
      toRedemption,
      size,
    ),
    earnings: pagedSection((after, n) => earningsPage(db, userId, after, n), toEarning, size),
    // one row per currency: short whatever the number of sales
    earningsByCurrency: earningsTotals(db, userId),
    payouts: pagedSection((after, n) => payoutsPage(db, userId, after, n), toPayout, size),
  };
}

/** An async iterable, so the totals are read in turn with the other sections, not up front. */
async function* earningsTotals(db: Db, userId: string) {
  for (const row of await earningsOf(db, userId, {})) {
    yield {
      currency: row.currency,
      sales: m(row.sales, row.currency),
      refunds: m(row.refunds, row.currency),
      net: m(row.net, row.currency),
    };
  }
}
