import { type Kysely, sql } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import type { SandboxPayment, SandboxStore } from './providers/sandbox.store.js';
import type { CommerceTables } from './tables.js';

/** The sandbox's simulated payments in commerce's own table, so every instance sees the same ones. */
export function tableSandboxStore(db: Kysely<CommerceTables>): SandboxStore {
  return {
    async get(paymentId) {
      const [row] = await readVersioned(db, { paymentId });
      return row ? fromRecord(row.record) : undefined;
    },
    async add(payment) {
      await insertRecord(db, { paymentId: payment.paymentId, record: toRecord(payment) });
    },
    async update(paymentId, change) {
      // Compare and set instead of a row lock: read the record with its row version (xmin, the
      // transaction that wrote it), change it, and write it only if no one wrote it since; if
      // someone did, read it again and redo the change. Two statements a change instead of four
      // (begin, lock, update, commit); changes of one payment still take turns.
      for (;;) {
        const [row] = await readVersioned(db, { paymentId });
        const payment = row ? fromRecord(row.record) : undefined;
        const result = change(payment);
        if (!row || !payment) return result;
        const written = await updateIfUnchanged(db, {
          paymentId,
          record: toRecord(payment),
          version: row.version,
          at: new Date(),
        });
        if (written.length > 0) return result;
      }
    },
  };
}

type Db = Kysely<CommerceTables>;

const readVersioned = preparedStatement(
  'commerce.sandbox.read-versioned',
  (db: Db, { paymentId }: { paymentId: string }) =>
    db
      .selectFrom('commerce.sandbox_payments')
      .select(['record', sql<string>`xmin::text`.as('version')])
      .where('payment_id', '=', paymentId),
);
const insertRecord = preparedStatement(
  'commerce.sandbox.insert',
  (db: Db, a: { paymentId: string; record: string }) =>
    db
      .insertInto('commerce.sandbox_payments')
      .values({ payment_id: a.paymentId, record: a.record })
      .onConflict((oc) => oc.column('payment_id').doNothing()),
);
const updateIfUnchanged = preparedStatement(
  'commerce.sandbox.update-if-unchanged',
  (db: Db, a: { paymentId: string; record: string; version: string; at: Date }) =>
    db
      .updateTable('commerce.sandbox_payments')
      .set({ record: a.record, updated_at: a.at })
      .where('payment_id', '=', a.paymentId)
      .where(sql<string>`xmin::text`, '=', a.version)
      .returning('payment_id'),
);

const toRecord = (payment: SandboxPayment): string =>
  JSON.stringify({ ...payment, expiresAt: payment.expiresAt.toISOString() });

function fromRecord(stored: unknown): SandboxPayment {
  const record = stored as Omit<SandboxPayment, 'expiresAt'> & { expiresAt: string };
  return { ...record, expiresAt: new Date(record.expiresAt) };
}
