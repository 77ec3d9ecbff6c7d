import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Static } from 'typebox';
import type { Logger } from 'pino';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { exportPartKey, joinExportParts } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import type { AuditLog } from './audit.service.js';
import { addSeconds, type Clock, type IdentityDb, type RequestMeta } from './context.js';
import {
  type DataExportRow,
  deleteDataExports,
  expiredExports,
  findLiveExport,
  markReadyNotified,
  insertDataExport,
  listDataExports,
  lockAndLastRequest,
} from './data-exports.queries.js';
import type { DataExport } from './data-exports.schemas.js';
import { DataExportErrors, IdentityErrors } from './identity.errors.js';
import { type DataExportRequested, DataExportRequestedEvent } from './identity.events.js';
import type { IdentityMail } from './mail.js';
import type { Mfa, SecondFactor } from './mfa.service.js';
import { findUserById } from './users.queries.js';

export type DataExports = ReturnType<typeof createDataExports>;

/** One request a day: a copy is a heavy read of every module, and the last one is still there. */
const DATA_EXPORT_INTERVAL_SECONDS = 24 * 3600;
/** How long a copy can be downloaded; the purge job then deletes its parts. */
const DATA_EXPORT_KEEP_SECONDS = 7 * 24 * 3600;
/**
 * An expired export's row stays this long after its parts are deleted, so the purge job's next
 * runs also catch a part written late (by a module that was behind on its events).
 */
const ROW_GRACE_SECONDS = 24 * 3600;

/**
 * When the readiness check runs, in seconds after the request, round by round (the parts are
 * usually there within a second or two; a module that is down catches up when it is back).
 * After the last round the owner is not mailed; the copy still shows `ready` when it is.
 */
const READY_CHECK_DELAYS = [2, 3, 5, 10, 30, 60, 300, 900, 1800, 3600] as const;

type DataExportView = Static<typeof DataExport>;

/**
 * A user's copy of their personal data (个人信息副本, PIPL Art. 45). Asking needs the password
 * (and the second factor while it is on), as closing the account does: the copy holds everything.
 * Identity records the request and publishes `identity.data_export.requested`; every module
 * (identity too, through the same event) writes its part to the storage; the copy is ready when
 * every expected part is there, and is served as one JSON document. See
 * `src/platform/personal-data.ts`.
 */
export function createDataExports(deps: {
  db: IdentityDb;
  clock: Clock;
  audit: AuditLog;
  mfa: Mfa;
  storage: Storage;
  logger: Logger;
  mail: IdentityMail;
  /** Queue the readiness check's `round` (a delayed job; in `trx` when given). */
  queueReadyCheck: (exportId: string, round: number, delaySeconds: number, trx?: IdentityDb) => Promise<void>;
  /** The modules expected to write a part: every module of the platform, wherever it runs. */
  parts: readonly string[];
}) {
  const { db, clock, audit, mfa, storage, logger, mail, queueReadyCheck, parts } = deps;

  const partsOf = async (row: DataExportRow) =>
    Promise.all(
      row.parts.map(async (module) => ({
        module,
        ready: (await storage.size(exportPartKey(row.id, module))) !== undefined,
      })),
    );

  const view = async (row: DataExportRow): Promise<DataExportView> => {
    const state = await partsOf(row);
    return {
      id: row.id,
      status: state.every((p) => p.ready) ? 'ready' : 'preparing',
      requestedAt: row.requested_at.toISOString(),
      expiresAt: row.expires_at.toISOString(),
      parts: state,
    };
  };

  const notFound = () => AppError.notFound(DataExportErrors.notFound, 'No such data export.');

  return {
    async request(userId: string, proof: { password: string } & SecondFactor, meta: RequestMeta) {
      const user = await findUserById(db, userId);
      if (!user || user.status !== 'active') throw IdentityErrors.userNotFound();
      await mfa.confirmOwner(user, proof, meta);
      const row = await inTransaction(db, async (trx) => {
        const locked = await lockAndLastRequest(trx, userId);
        if (!locked) throw IdentityErrors.userNotFound();
        // read under the lock: a request that held it before this one has an earlier time, so the
        // wait never exceeds the interval (read before, it could by the time the lock took)
        const now = clock();
        if (locked.last) {
          const next = addSeconds(locked.last, DATA_EXPORT_INTERVAL_SECONDS);
          if (next > now) {
            throw new AppError(
              'rate_limited',
              DataExportErrors.tooSoon,
              'A copy of your data was asked for less than a day ago; it is still there to download.',
              { retryAfterSeconds: Math.ceil((next.getTime() - now.getTime()) / 1000) },
            );
          }
        }
        const created: DataExportRow = {
          id: randomUUID(),
          user_id: userId,
          requested_at: now,
          expires_at: addSeconds(now, DATA_EXPORT_KEEP_SECONDS),
          parts: [...parts],
          ready_notified_at: null,
        };
        await insertDataExport(trx, created);
        await audit.record(trx, {
          type: 'user.data_export_requested',
          userId,
          meta,
          details: { exportId: created.id },
        });
        const data: DataExportRequested = { exportId: created.id, userId, requestedAt: now.toISOString() };
        await enqueue(trx, 'identity', [DataExportRequestedEvent.create(userId, data)]);
        await queueReadyCheck(created.id, 0, READY_CHECK_DELAYS[0], trx);
        return created;
      });
      mail.dataExportRequested(user.email);
      return view(row);
    },

    async list(userId: string): Promise<DataExportView[]> {
      const rows = await listDataExports(db, userId, clock());
      return Promise.all(rows.map(view));
    },

    async get(userId: string, id: string): Promise<DataExportView> {
      const row = await findLiveExport(db, id, clock(), userId);
      if (!row) throw notFound();
      return view(row);
    },

    /** The copy as one JSON document, once every part is there. */
    async download(
      userId: string,
      id: string,
      meta: RequestMeta,
    ): Promise<{ body: Readable; requestedAt: Date }> {
      const row = await findLiveExport(db, id, clock(), userId);
      if (!row) throw notFound();
      const missing = (await partsOf(row)).filter((p) => !p.ready).map((p) => p.module);
      if (missing.length > 0) {
        throw AppError.conflict(
          DataExportErrors.notReady,
          `The copy is still being prepared (waiting for: ${missing.join(', ')}).`,
        );
      }
      await audit.record(db, {
        type: 'user.data_export_downloaded',
        userId,
        meta,
        details: { exportId: row.id },
      });
      const header = {
        exportId: row.id,
        userId,
        requestedAt: row.requested_at.toISOString(),
        expiresAt: row.expires_at.toISOString(),
      };
      return { body: joinExportParts(storage, row.id, header, row.parts), requestedAt: row.requested_at };
    },

    /**
     * The readiness check's round: once every part is there, mail the owner (once); otherwise
     * queue the next round, until the rounds run out or the copy expires.
     */
    async checkReady(exportId: string, round: number): Promise<void> {
      const row = await findLiveExport(db, exportId, clock());
      if (!row || row.ready_notified_at) return;
      const state = await partsOf(row);
      if (state.some((p) => !p.ready)) {
        const next = round + 1;
        const delay = READY_CHECK_DELAYS[next];
        if (delay === undefined) {
          logger.warn({ exportId, parts: state }, 'identity: a data export is still not ready');
          return;
        }
        await queueReadyCheck(exportId, next, delay);
        return;
      }
      if (!(await markReadyNotified(db, exportId, clock()))) return;
      const user = await findUserById(db, row.user_id);
      if (user?.status === 'active') mail.dataExportReady(user.email, user.display_name, row.expires_at);
    },

    /**
     * Deletes the parts of expired exports, and their rows a day later (a part written late is
     * deleted on a later run). Returns how many exports' parts it deleted, each counted once.
     */
    async purgeExpired(batchSize = 200): Promise<number> {
      const now = clock();
      const rowsBefore = addSeconds(now, -ROW_GRACE_SECONDS);
      let purged = 0;
      let after: { expiresAt: Date; id: string } | undefined;
      for (;;) {
        const batch = await expiredExports(db, now, batchSize, after);
        for (const row of batch) {
          await Promise.all(row.parts.map((module) => storage.delete(exportPartKey(row.id, module))));
        }
        purged += batch.length;
        await deleteDataExports(
          db,
          batch.filter((row) => row.expires_at <= rowsBefore).map((row) => row.id),
        );
        const last = batch.at(-1);
        if (!last || batch.length < batchSize) break;
        after = { expiresAt: last.expires_at, id: last.id };
      }
      if (purged > 0) logger.info({ purged }, 'identity: expired data exports purged');
      return purged;
    },
  };
}
