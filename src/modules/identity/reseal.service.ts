import type { Logger } from 'pino';
import { inTransaction } from '../../platform/db/database.js';
import type { IdentityDb } from './context.js';
import type { SecretBox } from './crypto.js';
import { sealedSigningKeys, sealedSigningKeysAfter, setSealedPrivateKey } from './keys.queries.js';
import { sealedTotpSecrets, sealedTotpSecretsAfter, setSealedTotpSecret } from './mfa.queries.js';

/** Rows read, and locked, at a time: each batch is one short transaction. */
const BATCH = 100;
/** Ids of unreadable values named in one log line, per column. */
const IDS_LOGGED = 50;

interface SealedRow {
  id: string;
  sealed: string;
}

/** A column the secret box seals, read and written by its primary key. */
interface SealedColumn {
  name: 'totpUserIds' | 'signingKeyKids';
  page(db: IdentityDb, after: string | undefined, limit: number, onlyPlain: boolean): Promise<SealedRow[]>;
  read(db: IdentityDb, ids: readonly string[], lock: boolean): Promise<SealedRow[]>;
  write(db: IdentityDb, id: string, sealed: string): Promise<void>;
}

/** Every column the box seals: a new one must be added here, or a rotation would lose it. */
const SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    name: 'totpUserIds',
    page: sealedTotpSecretsAfter,
    read: sealedTotpSecrets,
    write: setSealedTotpSecret,
  },
  {
    name: 'signingKeyKids',
    page: sealedSigningKeysAfter,
    read: sealedSigningKeys,
    write: setSealedPrivateKey,
  },
];

export interface ResealReport {
  /** Values sealed again under the current secret in this run. */
  resealed: number;
  /** Values no configured secret opens: left as they are. */
  unreadable: number;
  /** Values that still need resealing (held by another transaction this run). */
  left: number;
}

export type SecretReseal = ReturnType<typeof createSecretReseal>;

/**
 * Seals again under the current secret every value that only a previous secret opens, or that was
 * stored `plain.` before a secret was set, so the previous secrets can be removed (CONTEXT.md).
 * `v1` values name no key: while previous secrets are set every value is tried; without them
 * only `plain.` ones can need it, and only those are read.
 */
export function createSecretReseal(deps: { db: IdentityDb; box: SecretBox }) {
  const { db, box } = deps;

  /** Reseal the rows of one batch that still need it, under lock; the ids it could not take. */
  async function resealBatch(
    column: SealedColumn,
    ids: string[],
  ): Promise<{ resealed: number; missed: string[] }> {
    return inTransaction(db, async (trx) => {
      const locked = await column.read(trx, ids, true);
      let resealed = 0;
      for (const row of locked) {
        // read again under the lock: the value may have been replaced since the page was read
        if (!box.needsReseal(row.sealed)) continue;
        await column.write(trx, row.id, box.seal(box.open(row.sealed)));
        resealed += 1;
      }
      const taken = new Set(locked.map((r) => r.id));
      return { resealed, missed: ids.filter((id) => !taken.has(id)) };
    });
  }

  async function sweep(column: SealedColumn, report: ResealReport, unreadableIds: string[]): Promise<void> {
    const onlyPlain = !box.rotating;
    let after: string | undefined;
    for (;;) {
      const page = await column.page(db, after, BATCH, onlyPlain);
      const last = page.at(-1);
      if (!last) return;
      // keyset order: every row is visited once per run, so a value that never opens cannot loop it
      after = last.id;
      const stale: string[] = [];
      for (const row of page) {
        const state = box.state(row.sealed);
        if (state === 'stale') stale.push(row.id);
        else if (state === 'unreadable') {
          report.unreadable += 1;
          if (unreadableIds.length < IDS_LOGGED) unreadableIds.push(row.id);
        }
      }
      if (stale.length === 0) continue;
      const { resealed, missed } = await resealBatch(column, stale);
      report.resealed += resealed;
      // a row skipped because another transaction held it: left for the next run, unless it is gone
      // or was replaced by a value the current secret sealed
      const still = await column.read(db, missed, false);
      report.left += still.filter((r) => box.needsReseal(r.sealed)).length;
    }
  }

  return {
    /** One pass over every sealed column; logs counts and ids, never a value. */
    async run(logger: Logger): Promise<ResealReport> {
      const report: ResealReport = { resealed: 0, unreadable: 0, left: 0 };
      // without a secret there is nothing to seal under
      if (!box.encrypting) return report;
      const unreadable: Record<string, string[]> = {};
      for (const column of SEALED_COLUMNS) {
        const ids: string[] = [];
        await sweep(column, report, ids);
        if (ids.length > 0) unreadable[column.name] = ids;
      }
      const level = box.rotating || report.resealed + report.unreadable + report.left > 0 ? 'info' : 'debug';
      // while previous secrets are set the operator waits for `left: 0`, so every such run says it
      logger[level](
        { ...report, ...(report.unreadable > 0 ? { unreadableIds: unreadable } : {}) },
        'identity: sealed secrets resealed under the current secret',
      );
      return report;
    },
  };
}
