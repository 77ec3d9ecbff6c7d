import type { Kysely, Transaction } from 'kysely';
import { inTransaction } from '../db/database.js';
import { messagingTables } from './outbox.js';
import type { BusSubscription, EventEnvelope } from './types.js';

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
    const inserted = await messagingTables(trx, schema)
      .insertInto('inbox')
      .values({ consumer, event_id: event.id })
      .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
      .returning('event_id')
      .executeTakeFirst();
    if (!inserted) return false;
    await effect(trx);
    return true;
  });
}

export interface InboxSubscriber<DB> {
  /** Durable consumer name, `<module>.<what it does>`. */
  consumer: string;
  types: string[];
  handle(event: EventEnvelope, trx: Transaction<DB>): Promise<void>;
  deliverFrom?: 'all' | 'new';
}

/** A bus subscription whose handler runs once per event, in a transaction with its inbox row. */
export function subscriptionFor<DB>(
  db: Kysely<DB>,
  schema: string,
  subscriber: InboxSubscriber<DB>,
): BusSubscription {
  return {
    consumer: subscriber.consumer,
    types: subscriber.types,
    ...(subscriber.deliverFrom ? { deliverFrom: subscriber.deliverFrom } : {}),
    async handle(event) {
      await applyOnce(db, schema, subscriber.consumer, event, (trx) => subscriber.handle(event, trx));
    },
  };
}
