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
      if (!row) return undefined;
      const record = row.record as unknown as Omit<SandboxPayment, 'expiresAt'> & { expiresAt: string };
      return { ...record, expiresAt: new Date(record.expiresAt) };
    },
    async add(payment) {
      const record = JSON.stringify({ ...payment, expiresAt: payment.expiresAt.toISOString() });
      await db
        .insertInto('commerce.sandbox_payments')
        .values({ payment_id: payment.paymentId, record })
        .onConflict((oc) => oc.column('payment_id').doNothing())
        .execute();
    },
    async save(payment) {
      const record = JSON.stringify({ ...payment, expiresAt: payment.expiresAt.toISOString() });
      await db
        .insertInto('commerce.sandbox_payments')
        .values({ payment_id: payment.paymentId, record })
        .onConflict((oc) => oc.column('payment_id').doUpdateSet({ record, updated_at: new Date() }))
        .execute();
    },
  };
}
