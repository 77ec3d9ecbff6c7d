import { randomUUID } from 'node:crypto';
import {
  type ColumnType,
  type Compilable,
  type Generated,
  type Kysely,
  type Migration,
  type RawBuilder,
  sql,
  type Transaction,
} from 'kysely';
import { preparedStatement } from '../db/prepared.js';
import { assertEventData } from './events.js';
import type { EventEnvelope, NewEvent } from './types.js';

/** Kysely types of the messaging tables every event-owning schema holds. */
export type OutboxTable = {
  id: string;
  type: string;
  version: number;
  aggregate_id: string;
  data: ColumnType<unknown, string, string>;
  occurred_at: ColumnType<Date, string, string>;
  published_at: ColumnType<Date | null, never, string | null>;
  attempts: Generated<number>;
  last_error: ColumnType<string | null, never, string | null>;
  seq: Generated<number>;
};

export type InboxTable = {
  consumer: string;
  event_id: string;
  applied_at: ColumnType<Date, never, never>;
};

export type OutboxTables = {
  outbox: OutboxTable;
  inbox: InboxTable;
};

/**
 * The outbox (events this schema's owner publishes) and the inbox (events it has applied).
 * Add it to the owner's migrations map, before anything that enqueues.
 */
export function outboxMigration(schema: string): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const s = db.schema.withSchema(schema);
      await s
        .createTable('outbox')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('aggregate_id', 'text', (c) => c.notNull())
        .addColumn('data', 'jsonb', (c) => c.notNull())
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addColumn('published_at', 'timestamptz')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_error', 'text')
        .addColumn('seq', 'bigserial', (c) => c.notNull())
        .execute();
      // the relay only ever scans unpublished rows; published ones are history
      await sql`create index outbox_unpublished_idx on ${sql.table(`${schema}.outbox`)} (seq) where published_at is null`.execute(
        db,
      );
      await s
        .createTable('inbox')
        .addColumn('consumer', 'text', (c) => c.notNull())
        .addColumn('event_id', 'uuid', (c) => c.notNull())
        .addColumn('applied_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addPrimaryKeyConstraint('inbox_pkey', ['consumer', 'event_id'])
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.withSchema(schema).dropTable('inbox').ifExists().execute();
      await db.schema.withSchema(schema).dropTable('outbox').ifExists().execute();
    },
  };
}

/** The schema's outbox and inbox tables, typed, on any Kysely instance or transaction. */
export function messagingTables<DB>(db: Kysely<DB>, schema: string): Kysely<OutboxTables> {
  // every event-owning schema has these tables but its owner's table types need not list them;
  // Kysely<DB> does not widen to Kysely<object> for a concrete DB, hence the cast
  return (db as unknown as Kysely<object>).withTables<OutboxTables>().withSchema(schema);
}

/**
 * Write events to the outbox inside the caller's transaction, so they exist exactly when the
 * state change they announce does. The relay publishes them after commit. Events made by an
 * event definition (`definition.create(...)`) are checked against its schema first: data that
 * does not match throws EventSchemaError, naming the field, and so fails the transaction.
 */
export async function enqueue<DB>(
  trx: Transaction<DB>,
  schema: string,
  events: NewEvent[],
): Promise<EventEnvelope[]> {
  if (events.length === 0) return [];
  const occurredAt = new Date().toISOString();
  const envelopes = events.map((e) => envelopeOf(e, occurredAt));
  await insertEvents(trx, schema, { rows: envelopes.map(rowOf) });
  return envelopes;
}

/** An event's envelope, checked against its definition's schema (EventSchemaError otherwise). */
function envelopeOf(event: NewEvent, occurredAt: string): EventEnvelope {
  assertEventData(event);
  return {
    id: randomUUID(),
    type: event.type,
    version: event.version ?? 1,
    occurredAt,
    aggregateId: event.aggregateId,
    data: event.data,
  };
}

const rowOf = (e: EventEnvelope): OutboxRow => ({
  id: e.id,
  type: e.type,
  version: e.version,
  aggregate_id: e.aggregateId,
  // stringified: node-postgres would turn a top-level array into a PostgreSQL array
  data: JSON.stringify(e.data ?? null),
  occurred_at: e.occurredAt,
});

/**
 * An event as the outbox holds it, checked as `enqueue` checks it, for a module that writes its
 * change and its event in one statement of its own (see `outboxInsertWhen`).
 */
export function outboxRow(event: NewEvent): OutboxRow {
  return rowOf(envelopeOf(event, new Date().toISOString()));
}

/**
 * The body of a data-modifying CTE that writes one outbox row of `schema` when the statement's CTE
 * `guard` has a row: the event then exists exactly when the change it announces does, in the
 * change's own statement (a round trip less than a separate insert in its transaction).
 */
export function outboxInsertWhen(
  schema: string,
  row: OutboxRow,
  guard: string,
): RawBuilder<Record<string, unknown>> {
  // parenthesised here: Kysely writes a raw CTE body as it is
  return sql<
    Record<string, unknown>
  >`(insert into ${sql.table(`${schema}.outbox`)} (id, type, version, aggregate_id, data, occurred_at)
    select ${row.id}::uuid, ${row.type}::text, ${row.version}::int, ${row.aggregate_id}::text,
      ${row.data}::jsonb, ${row.occurred_at}::timestamptz
    where exists (select 1 from ${sql.table(guard)}))`;
}

export type OutboxRow = {
  id: string;
  type: string;
  version: number;
  aggregate_id: string;
  data: string;
  occurred_at: string;
};

/**
 * A prepared statement (see preparedStatement) on a schema's messaging tables: one per schema,
 * whose name is in its text. Schemas are the modules', a fixed few. The schema is applied where
 * the statement is built, once: a call runs the built text on the caller's own connection.
 */
export function messagingStatement<Args extends object, Row>(
  name: string,
  build: (db: Kysely<OutboxTables>, args: Args) => Compilable<Row>,
): <DB>(db: Kysely<DB>, schema: string, args: Args) => Promise<Row[]> {
  const bySchema = new Map<string, (db: Kysely<object>, args: Args) => Promise<Row[]>>();
  return (db, schema, args) => {
    let run = bySchema.get(schema);
    if (!run) {
      run = preparedStatement(`${name}.${schema}`, (any: Kysely<object>, a: Args) =>
        build(messagingTables(any, schema), a),
      );
      bySchema.set(schema, run);
    }
    return run(db as unknown as Kysely<object>, args);
  };
}

/** The events' rows: a statement for each count up to a few (most state changes announce one). */
const insertEvents = messagingStatement('outbox.insert', (db, a: { rows: OutboxRow[] }) =>
  db.insertInto('outbox').values(a.rows),
);
