import { type Kysely, sql } from 'kysely';
import type { CommerceTables } from './tables.js';

type Db = Kysely<CommerceTables>;

export interface SealedPayerRow {
  id: string;
  payer_sealed: string;
}

/**
 * The LIKE pattern of values sealed under `keyId` (`s1.<kid>.…`). A key id may hold `_`, which
 * LIKE reads as any one character: escaped, so `a_b` does not also match a value under `aXb`.
 */
const sealedUnder = (keyId: string): string => `s1.${keyId.replace(/[\\%_]/g, '\\$&')}.%`;

/** Payments with a payer sealed under another key than `keyId`: what the reseal moves. */
const notSealedUnder = (db: Db, keyId: string) =>
  db
    .selectFrom('commerce.payments')
    .where('payer_sealed', 'is not', null)
    .where('payer_sealed', 'not like', sealedUnder(keyId));

/**
 * The next payments after `after` (by id) whose payer is not sealed under `keyId`, locked.
 * `skip locked`: a payment a notification or a refund holds right now is left to the next run, and
 * the run never waits for a lock while it holds its own. Keyset on id, so a value that does not
 * open is passed over, not met again, in the rest of the run.
 */
export function lockPayersNotSealedUnder(
  db: Db,
  args: { keyId: string; after: string | undefined; limit: number },
): Promise<SealedPayerRow[]> {
  let q = notSealedUnder(db, args.keyId).select(['id', sql<string>`payer_sealed`.as('payer_sealed')]);
  if (args.after !== undefined) q = q.where('id', '>', args.after);
  return q.orderBy('id').limit(args.limit).forUpdate().skipLocked().execute();
}

/**
 * Write resealed payers, one statement for the batch. `updated_at` stays: the payment did not
 * change, only the key its payer is sealed with.
 */
export async function updateSealedPayers(db: Db, rows: readonly SealedPayerRow[]): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    update commerce.payments p set payer_sealed = u.payer_sealed
    from unnest(${rows.map((r) => r.id)}::uuid[], ${rows.map((r) => r.payer_sealed)}::text[])
      as u(id, payer_sealed)
    where p.id = u.id`.execute(db);
}

/** How many payers are sealed under another key than `keyId` (that key cannot be dropped yet). */
export async function countPayersNotSealedUnder(db: Db, keyId: string): Promise<number> {
  const row = await notSealedUnder(db, keyId).select(sql<number>`count(*)::int`.as('n')).executeTakeFirst();
  return row?.n ?? 0;
}
