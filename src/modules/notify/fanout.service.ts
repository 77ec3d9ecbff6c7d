import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import type { DeliveryService } from './delivery.service.js';
import {
  advanceFanout,
  findFanout,
  insertFanout,
  lockFanout,
  type Segment,
  segmentBatch,
} from './fanout.queries.js';
import type { Kind } from './kinds.js';
import type { LiveHub } from './live.js';
import type { NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

/** Sends the next step's job in the caller's transaction. */
export type FanoutQueue = (db: Db, fanoutId: string) => Promise<void>;

export interface FanoutView {
  id: string;
  kind: string;
  status: 'running' | 'done';
  reached: number;
  createdAt: string;
  finishedAt: string | null;
}

/**
 * One notification to everyone in a segment (a course's learners, a role, all users), a batch
 * per job: each job runs one short transaction, so other work interleaves, and the position
 * (the last user id reached) commits with the batch's notifications. A job that dies midway
 * leaves no trace and is run again; a batch that is repeated anyway finds its notifications by
 * dedupe key. Either way, nobody gets the item twice.
 */
export function createFanoutService(deps: {
  db: Db;
  clock: Clock;
  delivery: DeliveryService;
  live: LiveHub;
  queue: FanoutQueue;
  batchSize: number;
  logger: Logger;
}) {
  const { db, clock, delivery, live, queue, batchSize } = deps;

  const view = (row: NonNullable<Awaited<ReturnType<typeof findFanout>>>): FanoutView => ({
    id: row.id,
    kind: row.kind,
    status: row.status,
    reached: row.reached,
    createdAt: new Date(row.created_at).toISOString(),
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
  });

  return {
    /** In the caller's transaction; a second start for the same source does nothing. Returns the id. */
    async start(
      trx: Db,
      input: { sourceId: string; kind: Kind; payload: Record<string, unknown>; segment: Segment },
    ): Promise<string | undefined> {
      const id = randomUUID();
      const started = await insertFanout(
        trx,
        {
          id,
          source_event_id: input.sourceId,
          kind: input.kind,
          payload: input.payload,
          segment: input.segment,
        },
        clock(),
      );
      if (!started) return undefined;
      await queue(trx, id);
      return id;
    },

    /** One batch (the job's handler). */
    async step(fanoutId: string): Promise<void> {
      const items = await inTransaction(db, async (trx) => {
        const fanout = await lockFanout(trx, fanoutId);
        if (!fanout || fanout.status === 'done') return [];
        const users = await segmentBatch(trx, fanout.segment as Segment, fanout.after_user_id, batchSize);
        const created = await delivery.create(
          trx,
          users.map((recipientId) => ({
            recipientId,
            kind: fanout.kind as Kind,
            payload: fanout.payload as Record<string, unknown>,
            dedupeKey: `fanout:${fanout.id}`,
            sourceEventId: fanout.source_event_id,
          })),
        );
        const done = users.length < batchSize;
        await advanceFanout(trx, fanoutId, {
          after: users.at(-1) ?? fanout.after_user_id,
          reached: created.length,
          done,
          at: clock(),
        });
        if (!done) await queue(trx, fanoutId);
        return created;
      });
      await live.publish(items).catch((err: unknown) => {
        deps.logger.warn({ err, fanoutId }, 'notify: could not push a fan-out batch live');
      });
    },

    async get(id: string): Promise<FanoutView | undefined> {
      const row = await findFanout(db, id);
      return row && view(row);
    },
  };
}

export type FanoutService = ReturnType<typeof createFanoutService>;
