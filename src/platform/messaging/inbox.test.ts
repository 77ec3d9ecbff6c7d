import { randomUUID } from 'node:crypto';
import { type Kysely, type Migration, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import type { Database } from '../db/database.js';
import { migrateAll } from '../db/migrations.js';
import { subscriptionFor } from './inbox.js';
import { outboxMigration } from './outbox.js';
import { capturingLogger } from './test-support.js';
import type { EventEnvelope } from './types.js';

const schema = 'inboxtest';
type Tables = { 'inboxtest.notes': { id: string } };

const notesTable: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .withSchema(schema)
      .createTable('notes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .execute();
  },
};

let database: Database;

beforeAll(async () => {
  database = await freshDatabase();
  await migrateAll(database.db, [
    { schema, migrations: { '0000-messaging': outboxMigration(schema), '0001-notes': notesTable } },
  ]);
});
afterAll(async () => {
  await database.close();
});

const envelope = (): EventEnvelope => ({
  id: randomUUID(),
  type: 'inboxtest.note.written',
  version: 1,
  occurredAt: new Date().toISOString(),
  aggregateId: randomUUID(),
  data: {},
});

/** Whether the note is visible outside any transaction: what another reader would see. */
const committed = async (id: string) =>
  (await database.db
    .withTables<Tables>()
    .selectFrom('inboxtest.notes')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst()) !== undefined;

describe('after-commit effects of a subscriber', () => {
  it('run once the effect is committed, so a fresh read there sees it', async () => {
    const seen: boolean[] = [];
    const subscription = subscriptionFor(database.db, schema, {
      consumer: 'inboxtest.write-note',
      types: ['inboxtest.note.written'],
      async handle(event, trx, context) {
        await trx
          .withTables<Tables>()
          .insertInto('inboxtest.notes')
          .values({ id: event.aggregateId })
          .execute();
        // run inside the transaction, this read would not see the note on PostgreSQL and would
        // wait forever for PGlite's one connection
        context.afterCommit(async () => {
          seen.push(await committed(event.aggregateId));
        });
      },
    });
    const event = envelope();
    await subscription.handle(event);
    expect(seen).toEqual([true]);

    // redelivered: already applied, so nothing runs again
    await subscription.handle(event);
    expect(seen).toEqual([true]);
  });

  it('never run when the transaction rolls back, and run on the retry that commits', async () => {
    const ran: string[] = [];
    let fail = true;
    const subscription = subscriptionFor(database.db, schema, {
      consumer: 'inboxtest.flaky',
      types: ['inboxtest.note.written'],
      async handle(event, trx, context) {
        await trx
          .withTables<Tables>()
          .insertInto('inboxtest.notes')
          .values({ id: event.aggregateId })
          .execute();
        context.afterCommit(() => {
          ran.push(fail ? 'first attempt' : 'retry');
          return Promise.resolve();
        });
        if (fail) throw new Error('the effect failed');
      },
    });
    const event = envelope();
    await expect(subscription.handle(event)).rejects.toThrow('the effect failed');
    expect(ran).toEqual([]);
    expect(await committed(event.aggregateId)).toBe(false);

    fail = false;
    await subscription.handle(event);
    expect(ran).toEqual(['retry']);
  });

  it('log a failing effect and keep the event applied', async () => {
    const { logger, lines } = capturingLogger();
    const later: string[] = [];
    const subscription = subscriptionFor(
      database.db,
      schema,
      {
        consumer: 'inboxtest.failing-effect',
        types: ['inboxtest.note.written'],
        async handle(_event, _trx, context) {
          context.afterCommit(() => Promise.reject(new Error('cache down')));
          context.afterCommit(() => {
            later.push('still ran');
            return Promise.resolve();
          });
          await Promise.resolve();
        },
      },
      { logger },
    );
    const event = envelope();
    await subscription.handle(event);
    expect(later).toEqual(['still ran']);
    expect(lines.filter((l) => l.msg === 'after-commit effect failed').map((l) => l.eventId)).toEqual([
      event.id,
    ]);
  });
});

describe('batched delivery', () => {
  const noteSubscriber = (calls: string[][], fail: () => boolean) => ({
    consumer: 'inboxtest.batch',
    types: ['inboxtest.note.written'],
    async handle(event: EventEnvelope, trx: Kysely<object>) {
      calls.push([event.id]);
      await trx
        .withTables<Tables>()
        .insertInto('inboxtest.notes')
        .values({ id: event.aggregateId })
        .execute();
    },
    async handleBatch(events: EventEnvelope[], trx: Kysely<object>) {
      calls.push(events.map((e) => e.id));
      await trx
        .withTables<Tables>()
        .insertInto('inboxtest.notes')
        .values(events.map((e) => ({ id: e.aggregateId })))
        .execute();
      if (fail()) throw new Error('the batch failed');
    },
  });

  it('applies new events in one call, skips those applied before and repeats within the batch', async () => {
    const calls: string[][] = [];
    const subscription = subscriptionFor(
      database.db,
      schema,
      noteSubscriber(calls, () => false),
    );
    const [a, b, c] = [envelope(), envelope(), envelope()];
    await subscription.handle(a);
    await subscription.handleBatch?.([a, b, b, c]);
    expect(calls).toEqual([[a.id], [b.id, c.id]]);
    expect(await Promise.all([a, b, c].map((e) => committed(e.aggregateId)))).toEqual([true, true, true]);
    // the whole batch again: every one of them is applied already
    await subscription.handleBatch?.([a, b, c]);
    expect(calls).toHaveLength(2);
  });

  it('leaves nothing applied when the batch fails, so each event can be delivered again', async () => {
    const calls: string[][] = [];
    let fail = true;
    const subscription = subscriptionFor(database.db, schema, {
      ...noteSubscriber(calls, () => fail),
      consumer: 'inboxtest.batch-failing',
    });
    const [a, b] = [envelope(), envelope()];
    await expect(subscription.handleBatch?.([a, b])).rejects.toThrow('the batch failed');
    expect(await committed(a.aggregateId)).toBe(false);
    fail = false;
    await subscription.handle(a);
    await subscription.handle(b);
    expect(await Promise.all([a, b].map((e) => committed(e.aggregateId)))).toEqual([true, true]);
  });

  it('a batch applies each new event in order, in one transaction that fails whole', async () => {
    const seen: { id: string; txid: string }[] = [];
    const failing = { id: '' };
    const handle = async (event: EventEnvelope, trx: Kysely<object>) => {
      const { rows } = await sql<{ txid: string }>`select txid_current()::text as txid`.execute(trx);
      seen.push({ id: event.id, txid: rows[0]?.txid ?? '' });
      await trx
        .withTables<Tables>()
        .insertInto('inboxtest.notes')
        .values({ id: event.aggregateId })
        .execute();
      if (event.id === failing.id) throw new Error('this event failed');
    };
    const subscription = subscriptionFor(database.db, schema, {
      consumer: 'inboxtest.one-by-one',
      types: ['inboxtest.note.written'],
      handle,
      async handleBatch(events: EventEnvelope[], trx: Kysely<object>) {
        for (const event of events) await handle(event, trx);
      },
    });
    const [a, b, c] = [envelope(), envelope(), envelope()];
    await subscription.handle(a);
    await subscription.handleBatch?.([a, b, c]);
    expect(seen.map((s) => s.id)).toEqual([a.id, b.id, c.id]);
    expect(new Set(seen.slice(1).map((s) => s.txid)).size).toBe(1);
    expect(await Promise.all([a, b, c].map((e) => committed(e.aggregateId)))).toEqual([true, true, true]);

    const [d, e] = [envelope(), envelope()];
    failing.id = e.id;
    await expect(subscription.handleBatch?.([d, e])).rejects.toThrow('this event failed');
    expect(await committed(d.aggregateId)).toBe(false);
  });

  it('is offered only by subscribers that batch', () => {
    const subscription = subscriptionFor(database.db, schema, {
      consumer: 'inboxtest.single',
      types: ['inboxtest.note.written'],
      handle: () => Promise.resolve(),
    });
    expect('handleBatch' in subscription).toBe(false);
  });
});
