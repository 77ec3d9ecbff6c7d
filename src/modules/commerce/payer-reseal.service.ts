import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { inTransaction } from '../../platform/db/database.js';
import { type Keyring, type Sealer, SealError } from '../../platform/crypto.js';
import {
  countPayersNotSealedUnder,
  lockPayersNotSealedUnder,
  type SealedPayerRow,
  updateSealedPayers,
} from './payer-reseal.queries.js';
import type { CommerceTables } from './tables.js';

/** One run of the reseal job. `left`: payers still to move to the current key (not the unreadable ones). */
export interface ResealRun {
  resealed: number;
  unreadable: number;
  left: number;
}

/**
 * Key rotation of COMMERCE_DATA_KEYS: payers sealed under an older key are opened with the
 * keyring and sealed again under its current key (bound to the same payment id), so the old key
 * can be dropped once `left` is 0. One short transaction per batch; a value that does not open
 * (its key is no longer in the keyring, or it was altered) stays as it is, is counted and its
 * payment id logged, and is passed over for the rest of the run.
 */
export function createPayerResealer(deps: {
  db: Kysely<CommerceTables>;
  keyring: Keyring;
  sealer: Sealer;
  logger: Logger;
  batchSize?: number;
  /** A cap per run, so one run stays short; the next run goes on where values are left. */
  maxBatches?: number;
}) {
  const { db, sealer, logger } = deps;
  const keyId = deps.keyring.current.id;
  const batchSize = deps.batchSize ?? 200;
  const maxBatches = deps.maxBatches ?? 20;

  return {
    async resealPayers(): Promise<ResealRun> {
      let resealed = 0;
      let unreadable = 0;
      let after: string | undefined;
      for (let batch = 0; batch < maxBatches; batch++) {
        const { count, last, done, failed } = await inTransaction(db, async (trx) => {
          const rows = await lockPayersNotSealedUnder(trx, { keyId, after, limit: batchSize });
          const done: SealedPayerRow[] = [];
          const failed: string[] = [];
          for (const row of rows) {
            try {
              const payer = sealer.open(row.payer_sealed, row.id);
              done.push({ id: row.id, payer_sealed: sealer.seal(payer, row.id) });
            } catch (err) {
              if (!(err instanceof SealError)) throw err;
              failed.push(row.id);
            }
          }
          await updateSealedPayers(trx, done);
          return { count: rows.length, last: rows.at(-1)?.id, done: done.length, failed };
        });
        resealed += done;
        unreadable += failed.length;
        // ids only: neither the sealed value nor the error (which names the key) goes to the log
        if (failed.length > 0) {
          logger.warn(
            { paymentIds: failed },
            'sealed payers do not open with COMMERCE_DATA_KEYS (key dropped or value altered); left as they are',
          );
        }
        if (count < batchSize || last === undefined) break;
        after = last;
      }
      // as identity's reseal counts it: values that will still move, not those no key opens. A run
      // stopped by the cap has not met every unreadable one, so it overcounts: the safe side
      const notCurrent = await countPayersNotSealedUnder(db, keyId);
      return { resealed, unreadable, left: Math.max(0, notCurrent - unreadable) };
    },
  };
}

export type PayerResealer = ReturnType<typeof createPayerResealer>;
