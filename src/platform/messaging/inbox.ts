import { type Kysely, sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { inTransaction } from '../db/database.js';
import { recordDeadLetter } from './dead-letters.js';
import { type EventDefinition, rejectionOf } from './events.js';
import { messagingStatement } from './outbox.js';
import type { BusSubscription, EventEnvelope } from './types.js';

/** The consumer's rows of these events, but those it has: the events it now applies come back. */
const insertInbox = messagingStatement('inbox.insert', (db, a: { consumer: string; ids: string[] }) =>
  db
    .insertInto('inbox')
    .columns(['consumer', 'event_id'])
    .expression(
      sql<{ consumer: string; event_id: string }>`select ${a.consumer}::text, unnest(${a.ids}::uuid[])`,
    )
    .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
    .returning('event_id'),
);

/**
 * Run `effect` for this event at most once per consumer: the inbox row and the effect commit
 * together, so a redelivered event finds its row and is skipped, and a failed effect leaves no
 * row and is tried again on the next delivery. Resolves with whether the effect ran now.
 */
export async function applyOnce<DB>(
  db: Kysely<DB>,
  schema: string,
  consumer: string,
  event: EventEnvelope,
  effect: (trx: Transaction<DB>) => Promise<void>,
): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    // a concurrent delivery of the same event blocks on this insert until the first commits,
    // then sees the conflict: two instances never both apply it
    const inserted = await insertInbox(trx, schema, { consumer, ids: [event.id] });
    if (inserted.length === 0) return false;
    await effect(trx);
    return true;
  });
}

/** What a handler gets beside its transaction. */
export interface DeliveryContext {
  /**
   * Run `effect` once the handler's transaction has committed; never when it rolls back or the
   * event was applied before. For effects outside the database (dropping cached reads): done
   * inside the transaction, a read in the gap before the commit would load the old rows and put
   * them back. A failing effect is logged, not retried: the event is already applied.
   */
  afterCommit: (effect: () => Promise<void>) => void;
}

export interface InboxSubscriber<DB> {
  /** Durable consumer name, `<module>.<what it does>`. */
  consumer: string;
  types: string[];
  handle(event: EventEnvelope, trx: Transaction<DB>, context: DeliveryContext): Promise<void>;
  /**
   * Optional: several events in one transaction (each not applied before, each accepted by
   * `events`), in bus order. Their inbox rows commit with the effect, as with `handle`.
   */
  handleBatch?(events: EventEnvelope[], trx: Transaction<DB>, context: DeliveryContext): Promise<void>;
  /** Most events per `handleBatch` (the bus's default when unset). */
  batchSize?: number;
  deliverFrom?: 'all' | 'new';
  /**
   * Definitions of the events it consumes. When given, an event is handed over only if its
   * version is one of these and its data matches that schema; any other is dead-lettered.
   */
  events?: readonly EventDefinition[];
}

let inProgress = 0;

/**
 * Deliveries of this process still running, their after-commit effects included. A test that sees
 * a consumer's inbox row committed and no delivery in progress knows the effects are done too:
 * the row commits inside the delivery, and the delivery ends only after its effects.
 */
export const deliveriesInProgress = (): number => inProgress;

/**
 * A bus subscription whose handler runs once per event, in a transaction with its inbox row.
 * An event refused by the subscriber's definitions is recorded in `platform.dead_letters` with
 * its inbox row (so it is not retried), logged once at warn, and the consumer moves on.
 */
export function subscriptionFor<DB>(
  db: Kysely<DB>,
  schema: string,
  subscriber: InboxSubscriber<DB>,
  options: { logger?: Logger } = {},
): BusSubscription {
  const { consumer, events } = subscriber;
  return {
    consumer,
    types: subscriber.types,
    ...(subscriber.deliverFrom ? { deliverFrom: subscriber.deliverFrom } : {}),
    async handle(event) {
      inProgress += 1;
      try {
        await deliver(event);
      } finally {
        inProgress -= 1;
      }
    },
    ...(subscriber.handleBatch
      ? {
          ...(subscriber.batchSize ? { batchSize: subscriber.batchSize } : {}),
          async handleBatch(batch: EventEnvelope[]) {
            inProgress += 1;
            try {
              await deliverBatch(batch);
            } finally {
              inProgress -= 1;
            }
          },
        }
      : {}),
  };

  /** Like `deliver`, for many events in one transaction: one inbox insert, one call of the handler. */
  async function deliverBatch(batch: EventEnvelope[]): Promise<void> {
    const committed: (() => Promise<void>)[] = [];
    const context: DeliveryContext = { afterCommit: (effect) => committed.push(effect) };
    const refused: { event: EventEnvelope; reason: string }[] = [];
    const ids = [...new Set(batch.map((e) => e.id))];
    const applied = await inTransaction(db, async (trx) => {
      const inserted = await insertInbox(trx, schema, { consumer, ids });
      const fresh = new Set(inserted.map((r) => r.event_id));
      const accepted: EventEnvelope[] = [];
      for (const event of batch) {
        if (!fresh.delete(event.id)) continue; // applied before, or twice in this batch
        const reason = events ? rejectionOf(events, event) : undefined;
        if (reason === undefined) accepted.push(event);
        else {
          refused.push({ event, reason });
          await recordDeadLetter(trx, { consumer, event, reason });
        }
      }
      if (accepted.length > 0) await subscriber.handleBatch?.(accepted, trx, context);
      return inserted.length > 0;
    });
    if (applied) {
      for (const effect of committed) {
        try {
          await effect();
        } catch (err) {
          options.logger?.warn({ err, consumer, events: batch.length }, 'after-commit effect failed');
        }
      }
    }
    for (const { event, reason } of refused) {
      options.logger?.warn(
        { consumer, eventId: event.id, type: event.type, version: event.version, reason },
        'event dead-lettered',
      );
    }
  }

  async function deliver(event: EventEnvelope): Promise<void> {
    let refused: string | undefined;
    // per delivery: a retried delivery starts with none of a rolled-back attempt's effects
    const committed: (() => Promise<void>)[] = [];
    const context: DeliveryContext = { afterCommit: (effect) => committed.push(effect) };
    const applied = await applyOnce(db, schema, consumer, event, async (trx) => {
      refused = events ? rejectionOf(events, event) : undefined;
      if (refused === undefined) await subscriber.handle(event, trx, context);
      else await recordDeadLetter(trx, { consumer, event, reason: refused });
    });
    if (applied) {
      for (const effect of committed) {
        try {
          await effect();
        } catch (err) {
          options.logger?.warn({ err, consumer, eventId: event.id }, 'after-commit effect failed');
        }
      }
    }
    if (applied && refused !== undefined) {
      options.logger?.warn(
        { consumer, eventId: event.id, type: event.type, version: event.version, reason: refused },
        'event dead-lettered',
      );
    }
  }
}
