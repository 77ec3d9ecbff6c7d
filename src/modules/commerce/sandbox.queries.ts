import type { Kysely } from 'kysely';
import { preparedStatement } from '../../platform/db/prepared.js';
import type { SandboxPayment, SandboxStore } from './providers/sandbox.store.js';
import type { CommerceTables } from './tables.js';

/** The sandbox's simulated payments in commerce's own table, so every instance sees the same ones. */
export function tableSandboxStore(db: Kysely<CommerceTables>): SandboxStore {
  return {
    async get(paymentId) {
      const [row] = await readRecord(db, { paymentId });
      return row ? fromRecord(row.record) : undefined;
    },
    async add(payment) {
      await insertRecord(db, { paymentId: payment.paymentId, record: toRecord(payment) });
    },
    update(paymentId, change) {
      // the row lock makes concurrent changes of one payment take turns
      return db.transaction().execute(async (trx) => {
        const [row] = await lockRecord(trx, { paymentId });
        const payment = row ? fromRecord(row.record) : undefined;
        const result = change(payment);
        if (payment) await updateRecord(trx, { paymentId, record: toRecord(payment), at: new Date() });
        return result;
      });
    },
  };
}

type Db = Kysely<CommerceTables>;

const readRecord = preparedStatement(
  'commerce.sandbox.read',
  (db: Db, { paymentId }: { paymentId: string }) =>
    db.selectFrom('commerce.sandbox_payments').select('record').where('payment_id', '=', paymentId),
);
const lockRecord = preparedStatement(
  'commerce.sandbox.lock',
  (db: Db, { paymentId }: { paymentId: string }) =>
    db
      .selectFrom('commerce.sandbox_payments')
      .select('record')
      .where('payment_id', '=', paymentId)
      .forUpdate(),
);
const insertRecord = preparedStatement(
  'commerce.sandbox.insert',
  (db: Db, a: { paymentId: string; record: string }) =>
    db
      .insertInto('commerce.sandbox_payments')
      .values({ payment_id: a.paymentId, record: a.record })
      .onConflict((oc) => oc.column('payment_id').doNothing()),
);
const updateRecord = preparedStatement(
  'commerce.sandbox.update',
  (db: Db, a: { paymentId: string; record: string; at: Date }) =>
    db
      .updateTable('commerce.sandbox_payments')
      .set({ record: a.record, updated_at: a.at })
      .where('payment_id', '=', a.paymentId),
);

const toRecord = (payment: SandboxPayment): string =>
  JSON.stringify({ ...payment, expiresAt: payment.expiresAt.toISOString() });

function fromRecord(stored: unknown): SandboxPayment {
  const record = stored as Omit<SandboxPayment, 'expiresAt'> & { expiresAt: string };
  return { ...record, expiresAt: new Date(record.expiresAt) };
}
