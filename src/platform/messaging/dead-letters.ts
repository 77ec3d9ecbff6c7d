import { type ColumnType, type Generated, type Kysely, type Migration, sql } from 'kysely';
import { keyset } from '../http/pagination.js';
import type { EventEnvelope } from './types.js';

/** Events a consumer refused for good (unknown version, data not matching the schema). */
export type DeadLetterTable = {
  id: Generated<string>;
  consumer: string;
  event_id: string;
  type: string;
  envelope: ColumnType<unknown, string, never>;
  reason: string;
  recorded_at: ColumnType<Date, never, never>;
};

export type DeadLetterTables = { dead_letters: DeadLetterTable };

/** `platform.dead_letters`; one row per consumer and event, however often the event arrives. */
export const deadLettersMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .withSchema('platform')
      .createTable('dead_letters')
      .addColumn('id', 'bigserial', (c) => c.primaryKey())
      .addColumn('consumer', 'text', (c) => c.notNull())
      // text, not uuid: a broken publisher's envelope is kept whatever its id looks like
      .addColumn('event_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('envelope', 'jsonb', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addUniqueConstraint('dead_letters_consumer_event_key', ['consumer', 'event_id'])
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.withSchema('platform').dropTable('dead_letters').ifExists().execute();
  },
};

export const deadLetterTables = <DB>(db: Kysely<DB>): Kysely<DeadLetterTables> =>
  // the platform's table is on every database the modules use; their table types need not list it
  (db as unknown as Kysely<object>).withTables<DeadLetterTables>().withSchema('platform');

/** Keep the refused event for an operator; call in the transaction that writes its inbox row. */
export async function recordDeadLetter<DB>(
  trx: Kysely<DB>,
  entry: { consumer: string; event: EventEnvelope; reason: string },
): Promise<void> {
  await deadLetterTables(trx)
    .insertInto('dead_letters')
    .values({
      consumer: entry.consumer,
      event_id: entry.event.id,
      type: entry.event.type,
      envelope: JSON.stringify(entry.event),
      reason: entry.reason,
    })
    .onConflict((oc) => oc.columns(['consumer', 'event_id']).doNothing())
    .execute();
}

export type DeadLetterRow = {
  id: string;
  consumer: string;
  event_id: string;
  type: string;
  envelope: unknown;
  reason: string;
  recorded_at: Date;
};

/** Newest first, optionally of one consumer or event type. */
export function listDeadLetters<DB>(
  db: Kysely<DB>,
  filter: { consumer?: string | undefined; type?: string | undefined },
  page: { limit: number; cursor?: string | undefined },
): Promise<DeadLetterRow[]> {
  let q = deadLetterTables(db).selectFrom('dead_letters').selectAll();
  if (filter.consumer !== undefined) q = q.where('consumer', '=', filter.consumer);
  if (filter.type !== undefined) q = q.where('type', '=', filter.type);
  return keyset(q, { columns: ['id'], direction: 'desc', shape: ['int64'], ...page }).execute();
}

export function findDeadLetter<DB>(db: Kysely<DB>, id: string): Promise<DeadLetterRow | undefined> {
  return deadLetterTables(db).selectFrom('dead_letters').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Remove one dead letter; resolves with whether it was there (a concurrent discard finds none). */
export async function deleteDeadLetter<DB>(db: Kysely<DB>, id: string): Promise<boolean> {
  const result = await deadLetterTables(db)
    .deleteFrom('dead_letters')
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}
