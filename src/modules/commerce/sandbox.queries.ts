import type { Kysely } from 'kysely';
import type { SandboxPayment, SandboxStore } from './providers/sandbox.store.js';
import type { CommerceTables } from './tables.js';

/** The sandbox's simulated payments in commerce's own table, so every instance sees the same ones. */
export function tableSandboxStore(db: Kysely<CommerceTables>): SandboxStore {
  return {
    async get(paymentId) {
      const row = await db
        .selectFrom('commerce.sandbox_payments')
        .select('record')
        .where('payment_id', '=', paymentId)
        .executeTakeFirst();
      return row ? fromRecord(row.record) : undefined;
    },
    async add(payment) {
      await db
        .insertInto('commerce.sandbox_payments')
        .values({ payment_id: payment.paymentId, record: toRecord(payment) })
        .onConflict((oc) => oc.column('payment_id').doNothing())
        .execute();
    },
    update(paymentId, change) {
      // the row lock makes concurrent changes of one payment take turns
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('commerce.sandbox_payments')
          .select('record')
          .where('payment_id', '=', paymentId)
          .forUpdate()
          .executeTakeFirst();
        const payment = row ? fromRecord(row.record) : undefined;
        const result = change(payment);
        if (payment) {
          await trx
            .updateTable('commerce.sandbox_payments')
            .set({ record: toRecord(payment), updated_at: new Date() })
            .where('payment_id', '=', paymentId)
            .execute();
        }
        return result;
      });
    },
  };
}

const toRecord = (payment: SandboxPayment): string =>
  JSON.stringify({ ...payment, expiresAt: payment.expiresAt.toISOString() });

function fromRecord(stored: unknown): SandboxPayment {
  const record = stored as Omit<SandboxPayment, 'expiresAt'> & { expiresAt: string };
  return { ...record, expiresAt: new Date(record.expiresAt) };
}
