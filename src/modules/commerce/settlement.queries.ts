import { type Kysely, sql } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import { type OutboxRow, outboxInsertWhen } from '../../platform/messaging/outbox.js';
import { postingsOfJournal } from './ledger.queries.js';
import type { SaleEntry } from './ledger.service.js';
import type { ProviderName } from './providers/provider.js';
import type { CommerceTables, NotificationOutcome } from './tables.js';

type Db = Kysely<CommerceTables>;

/** Everything a paid notification writes when it settles its order, made before the statement. */
export interface PaidSettlement {
  paymentId: string;
  orderId: string;
  provider: ProviderName;
  /** What the notification says was paid: the payment must expect exactly this. */
  amount: number;
  currency: string;
  providerTxnId: string;
  succeededAt: Date;
  /** The payer, sealed to the payment; null keeps what the payment holds. */
  payerSealed: string | null;
  at: Date;
  reason: string;
  journal: SaleEntry['journal'];
  /** The sale's postings as a JSON array (see `postingsOfJournal`). */
  postings: string;
  event: OutboxRow;
  notification: {
    notification_id: string;
    kind: string;
    /** What the notification said, as JSON (never secrets). */
    fields: string;
    outcome: NotificationOutcome;
  };
}

export interface Settled {
  /** The order and the payment were as the settlement expects, under their locks. */
  matched: boolean;
  /** The payment took the transaction id and the order became paid, with everything below. */
  paid: boolean;
  /** The notification was recorded (false: its id was recorded before). */
  recorded: boolean;
}

/**
 * Settle a paid order in one statement: lock the order while it is pending, then the payment
 * while it expects the notified amount and has not succeeded (the order every writer of both
 * takes); give the payment the transaction id unless another payment of the provider holds it;
 * and only then mark the order paid with its transition, close its lines' pending mark, book the
 * sale's journal and postings, write `commerce.order.paid` to the outbox and record the
 * notification. Each write hangs on the one before it, so a check that fails writes nothing.
 *
 * Run alone (one round trip instead of a transaction of eight) or inside the transaction that
 * already holds both locks and has made the same checks. A row a concurrent writer changed while
 * this waited for its lock is checked as that writer committed it; the check of the transaction
 * id reads what was committed when the statement began, and the unique (provider,
 * provider_txn_id) index stops what committed after.
 */
export async function settlePaid(db: Db, settlement: PaidSettlement): Promise<Settled> {
  const [row] = await settle(db, settlement);
  return row ?? { matched: false, paid: false, recorded: false };
}

const settle = preparedStatement('commerce.payments.settle-paid', (db: Db, a: PaidSettlement) =>
  db
    .with('o', (qb) =>
      qb
        .selectFrom('commerce.orders')
        .select('id')
        .where('id', '=', a.orderId)
        .where('status', '=', 'pending')
        .forUpdate(),
    )
    .with('p', (qb) =>
      qb
        .selectFrom('commerce.payments')
        .select('id')
        .where('id', '=', a.paymentId)
        // evaluated from `o` before any payment row is locked, so the order is locked first
        .where('order_id', '=', (eb) => eb.selectFrom('o').select('o.id'))
        .where('provider', '=', a.provider)
        .where('status', '<>', 'succeeded')
        .where('amount', '=', a.amount)
        .where('currency', '=', a.currency)
        .forUpdate(),
    )
    .with('pay', (qb) =>
      qb
        .updateTable('commerce.payments as q')
        .set({
          status: 'succeeded',
          provider_txn_id: a.providerTxnId,
          succeeded_at: a.succeededAt,
          updated_at: a.at,
          payer_sealed: sql<string | null>`coalesce(${a.payerSealed}::text, q.payer_sealed)`,
        })
        .where('q.id', '=', (eb) => eb.selectFrom('p').select('p.id'))
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('commerce.payments as other')
                .select(sql<number>`1`.as('one'))
                .where('other.provider', '=', a.provider)
                .where('other.provider_txn_id', '=', a.providerTxnId)
                .where('other.id', '<>', a.paymentId),
            ),
          ),
        )
        .returning('q.id'),
    )
    .with('u', (qb) =>
      qb
        .updateTable('commerce.orders')
        .set({ status: 'paid', updated_at: a.at, paid_at: a.at, provider: a.provider })
        .where('id', '=', (eb) => eb.selectFrom('o').select('o.id'))
        .where((eb) => eb.exists(eb.selectFrom('pay').select('pay.id')))
        .returning('id'),
    )
    .with('l', (qb) =>
      qb
        .updateTable('commerce.order_lines')
        // no transition leads back to pending: every move takes the order out of it
        .set({ pending: false })
        .where('order_id', '=', (eb) => eb.selectFrom('u').select('u.id'))
        .where('pending', '=', true)
        .returning('order_id'),
    )
    .with('t', (qb) =>
      qb
        .insertInto('commerce.order_transitions')
        .columns(['order_id', 'from_status', 'to_status', 'actor_kind', 'actor_id', 'reason', 'at'])
        .expression((eb) =>
          eb
            .selectFrom('u')
            .select([
              'u.id',
              sql<string>`'pending'`.as('from_status'),
              sql<string>`'paid'`.as('to_status'),
              sql<string>`'provider'`.as('actor_kind'),
              sql<string>`${a.provider}::text`.as('actor_id'),
              sql<string>`${a.reason}::text`.as('reason'),
              sql<Date>`${a.at}::timestamptz`.as('at'),
            ]),
        )
        .returning('id'),
    )
    .with('j', (qb) =>
      qb
        .insertInto('commerce.ledger_journals')
        .columns(['kind', 'source_key', 'order_id', 'refund_id', 'currency', 'fee_bps', 'occurred_at'])
        .expression((eb) =>
          eb
            .selectFrom('u')
            .select([
              sql<string>`${a.journal.kind}::text`.as('kind'),
              sql<string>`${a.journal.source_key}::text`.as('source_key'),
              sql<string>`${a.journal.order_id}::uuid`.as('order_id'),
              sql<string | null>`${a.journal.refund_id}::uuid`.as('refund_id'),
              sql<string>`${a.journal.currency}::text`.as('currency'),
              sql<number>`${a.journal.fee_bps}::int`.as('fee_bps'),
              sql<Date>`${a.journal.occurred_at}::timestamptz`.as('occurred_at'),
            ]),
        )
        .onConflict((oc) => oc.column('source_key').doNothing())
        .returning('id'),
    )
    .with('jp', (qb) => postingsOfJournal(qb, 'j', a.postings))
    .with('e', () => outboxInsertWhen('commerce', a.event, 'u'))
    .with('n', (qb) =>
      qb
        .insertInto('commerce.notifications')
        .columns([
          'provider',
          'notification_id',
          'payment_id',
          'kind',
          'provider_txn_id',
          'fields',
          'outcome',
          'flagged',
          'received_at',
        ])
        .expression((eb) =>
          eb
            .selectFrom('u')
            .select([
              sql<string>`${a.provider}::text`.as('provider'),
              sql<string>`${a.notification.notification_id}::text`.as('notification_id'),
              sql<string>`${a.paymentId}::uuid`.as('payment_id'),
              sql<string>`${a.notification.kind}::text`.as('kind'),
              sql<string>`${a.providerTxnId}::text`.as('provider_txn_id'),
              sql<string>`${a.notification.fields}::jsonb`.as('fields'),
              sql<string>`${a.notification.outcome}::text`.as('outcome'),
              sql<boolean>`false`.as('flagged'),
              sql<Date>`${a.at}::timestamptz`.as('received_at'),
            ]),
        )
        .onConflict((oc) => oc.columns(['provider', 'notification_id']).doNothing())
        .returning('id'),
    )
    .selectNoFrom([
      sql<boolean>`exists (select 1 from p)`.as('matched'),
      sql<boolean>`exists (select 1 from u)`.as('paid'),
      sql<boolean>`exists (select 1 from n)`.as('recorded'),
    ]),
);
