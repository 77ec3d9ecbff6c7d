import type { Kysely } from 'kysely';
import { AppError } from '../../platform/errors.js';
import { inTransaction } from '../../platform/db/database.js';
import type { FanoutService, FanoutView } from './fanout.service.js';
import type { Segment } from './fanout.queries.js';
import { NotifyErrors } from './notify.errors.js';
import type { NotifyTables } from './tables.js';

/** Operator announcements: a fan-out of the `announcement` kind to a segment. */
export function createBroadcastService(deps: { db: Kysely<NotifyTables>; fanout: FanoutService }) {
  const { db, fanout } = deps;
  const notFound = () => AppError.notFound(NotifyErrors.broadcastNotFound, 'No such broadcast.');
  return {
    async send(id: string, input: { title: string; body: string; segment: Segment }): Promise<FanoutView> {
      const fanoutId = await inTransaction(db, (trx) =>
        fanout.start(trx, {
          sourceId: `broadcast:${id}`,
          kind: 'announcement',
          payload: { title: input.title, body: input.body },
          segment: input.segment,
        }),
      );
      const view = fanoutId ? await fanout.get(fanoutId) : undefined;
      if (!view) throw notFound();
      return view;
    },
    async get(id: string): Promise<FanoutView> {
      const view = await fanout.get(id);
      if (!view || view.kind !== 'announcement') throw notFound();
      return view;
    },
  };
}

export type BroadcastService = ReturnType<typeof createBroadcastService>;
