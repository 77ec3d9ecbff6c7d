import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { type Page, toPage } from '../http/pagination.js';
import type { LecternModule } from '../module.js';
import { type DeadLetterRow, deleteDeadLetter, findDeadLetter, listDeadLetters } from './dead-letters.js';
import { rejectionOf } from './events.js';
import { subscriptionFor } from './inbox.js';
import { messagingTables } from './outbox.js';
import type { EventEnvelope } from './types.js';

export interface DeadLetterView {
  id: string;
  consumer: string;
  eventId: string;
  type: string;
  reason: string;
  recordedAt: string;
  envelope: unknown;
}

const view = (row: DeadLetterRow): DeadLetterView => ({
  id: row.id,
  consumer: row.consumer,
  eventId: row.event_id,
  type: row.type,
  reason: row.reason,
  recordedAt: new Date(row.recorded_at).toISOString(),
  envelope: row.envelope,
});

const notFound = () => AppError.notFound('dead-letter.not-found', 'No such dead letter.');

/**
 * What an operator does with events a consumer refused: look at them, discard them, or deliver
 * one again once the consumer has learnt its shape (a new version of the subscriber). A replay
 * goes through the same inbox path as the bus, so it still applies at most once.
 */
export function createDeadLetterAdmin(deps: {
  db: Kysely<object>;
  modules: LecternModule[];
  logger: Logger;
}) {
  const { db, modules, logger } = deps;

  const ownerOf = (consumer: string) => {
    for (const module of modules) {
      const subscriber = module.subscribers?.find((s) => s.consumer === consumer);
      if (subscriber) return { module, subscriber };
    }
    return undefined;
  };

  return {
    async list(
      filter: { consumer?: string | undefined; type?: string | undefined },
      page: { limit: number; cursor?: string | undefined },
    ): Promise<Page<DeadLetterView>> {
      const rows = await listDeadLetters(db, filter, page);
      return toPage(rows, page.limit, (row) => [row.id], view);
    },

    async get(id: string): Promise<DeadLetterView> {
      const row = await findDeadLetter(db, id);
      if (!row) throw notFound();
      return view(row);
    },

    async discard(id: string): Promise<void> {
      if (!(await deleteDeadLetter(db, id))) throw notFound();
      logger.info({ deadLetterId: id }, 'dead letter discarded');
    },

    async replay(id: string): Promise<{ outcome: 'applied' }> {
      const row = await findDeadLetter(db, id);
      if (!row) throw notFound();
      const owner = ownerOf(row.consumer);
      if (!owner) {
        throw AppError.conflict(
          'dead-letter.consumer-elsewhere',
          `The consumer ${row.consumer} does not run in this process; replay it where it runs.`,
        );
      }
      const envelope = row.envelope as EventEnvelope;
      // refused again for the same reason: nothing to gain from deleting the inbox row
      const refused = owner.subscriber.events ? rejectionOf(owner.subscriber.events, envelope) : undefined;
      if (refused !== undefined) {
        throw new AppError(
          'conflict',
          'dead-letter.still-refused',
          `The consumer still refuses this event: ${refused}`,
        );
      }
      // the inbox row written with the dead letter marks the event as handled; without it the
      // normal delivery path applies the event (once, even if a redelivery races this replay)
      await messagingTables(db, owner.module.name)
        .deleteFrom('inbox')
        .where('consumer', '=', row.consumer)
        .where('event_id', '=', row.event_id)
        .execute();
      await subscriptionFor(db, owner.module.name, owner.subscriber, { logger }).handle(envelope);
      await deleteDeadLetter(db, id);
      logger.info(
        { deadLetterId: id, consumer: row.consumer, eventId: row.event_id },
        'dead letter replayed',
      );
      return { outcome: 'applied' };
    },
  };
}

export type DeadLetterAdmin = ReturnType<typeof createDeadLetterAdmin>;
