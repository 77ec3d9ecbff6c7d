import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type Kysely, type Migration, sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import type { Database } from '../db/database.js';
import { migrateAll } from '../db/migrations.js';
import { createInProcessBus } from './in-process-bus.js';
import { subscriptionFor } from './inbox.js';
import { createJetStreamBus } from './jetstream-bus.js';
import { enqueue, messagingTables, outboxMigration } from './outbox.js';
import { createOutboxRelay } from './relay.js';
import { capturingLogger, isolatedStream, waitFor } from './test-support.js';
import type { EventBus, EventEnvelope } from './types.js';

type TestTables = {
  things: { id: string };
  counters: { name: string; value: number };
};

const testTables = (schema: string): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .withSchema(schema)
      .createTable('things')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .execute();
    await db.schema
      .withSchema(schema)
      .createTable('counters')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'integer', (c) => c.notNull())
      .execute();
  },
});

const tables = (db: Kysely<object>, schema: string) => db.withTables<TestTables>().withSchema(schema);

const thingCreated = 'msgtest.thing.created';
const { logger } = capturingLogger();

let database: Database;

beforeAll(async () => {
  database = await freshDatabase();
});

afterAll(async () => {
  await database.close();
});

/** Publishes go through to the real bus and are counted. */
function countingBus(bus: EventBus, published: string[]): EventBus {
  return {
    ...bus,
    async publish(event) {
      await bus.publish(event);
      published.push(event.id);
    },
  };
}

/**
 * The same guarantees over either bus: a state change and its event commit together, and the
 * consumer's effect happens once although the event reaches it twice.
 */
function relayScenario(schema: string, makeBus: () => Promise<EventBus>, beforeRestart: () => Promise<void>) {
  let bus: EventBus;
  const handled: string[] = [];
  const consumer = 'msgtest.count-things';

  async function createThing(id: string, options: { fail?: boolean } = {}): Promise<EventEnvelope> {
    return database.db.transaction().execute(async (trx) => {
      await tables(trx, schema).insertInto('things').values({ id }).execute();
      const [event] = await enqueue(trx, schema, [{ type: thingCreated, aggregateId: id, data: { id } }]);
      if (options.fail) throw new Error('business rule failed after the event was enqueued');
      if (!event) throw new Error('enqueue returned no envelope');
      return event;
    });
  }

  const counter = async (): Promise<number> => {
    const row = await tables(database.db, schema)
      .selectFrom('counters')
      .select('value')
      .where('name', '=', 'things')
      .executeTakeFirst();
    return row?.value ?? 0;
  };

  const outboxRow = (id: string) =>
    messagingTables(database.db, schema)
      .selectFrom('outbox')
      .select(['published_at', 'attempts'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  beforeAll(async () => {
    await migrateAll(database.db, [
      { schema, migrations: { '0000-messaging': outboxMigration(schema), '0001-test': testTables(schema) } },
    ]);
    bus = await makeBus();
    const subscription = subscriptionFor(database.db, schema, {
      consumer,
      types: [thingCreated],
      async handle(_event, trx: Transaction<object>) {
        await tables(trx, schema)
          .insertInto('counters')
          .values({ name: 'things', value: 1 })
          .onConflict((oc) => oc.column('name').doUpdateSet({ value: sql<number>`counters.value + 1` }))
          .execute();
      },
    });
    await bus.subscribe({
      ...subscription,
      async handle(event) {
        await subscription.handle(event);
        handled.push(event.id);
      },
    });
  });

  afterAll(async () => {
    await bus.close();
  });

  it('applies the effect once when a relay dies between publish and mark', async () => {
    const event = await createThing('t1');
    const published: string[] = [];

    // the publish reaches the bus, then the relay "dies" before it can mark the row
    const dying: EventBus = {
      ...bus,
      async publish(e) {
        await bus.publish(e);
        published.push(e.id);
        throw new Error('relay killed after publish, before marking the row');
      },
    };
    expect(
      await createOutboxRelay({ db: database.db, bus: dying, schemas: [schema], logger }).runOnce(),
    ).toBe(0);
    await waitFor(async () => (await counter()) === 1, 'the first delivery to be applied');
    expect(await outboxRow(event.id)).toMatchObject({ published_at: null, attempts: 1 });

    await beforeRestart();
    const restarted = createOutboxRelay({
      db: database.db,
      bus: countingBus(bus, published),
      schemas: [schema],
      logger,
    });
    expect(await restarted.runOnce()).toBe(1);
    expect(published).toEqual([event.id, event.id]);
    await waitFor(
      () => handled.filter((id) => id === event.id).length === 2,
      'the second delivery to be handled',
    );

    expect(await counter()).toBe(1);
    const inbox = await messagingTables(database.db, schema)
      .selectFrom('inbox')
      .select('consumer')
      .where('event_id', '=', event.id)
      .execute();
    expect(inbox).toEqual([{ consumer }]);
    expect((await outboxRow(event.id)).published_at).toBeInstanceOf(Date);
    expect(await restarted.runOnce()).toBe(0);
  });

  it('publishes nothing for a rolled-back transaction', async () => {
    await expect(createThing('t2', { fail: true })).rejects.toThrow(/business rule/);
    const rows = await messagingTables(database.db, schema)
      .selectFrom('outbox')
      .select('id')
      .where('aggregate_id', '=', 't2')
      .execute();
    expect(rows).toEqual([]);
    const things = await tables(database.db, schema)
      .selectFrom('things')
      .select('id')
      .where('id', '=', 't2')
      .execute();
    expect(things).toEqual([]);
    const published: string[] = [];
    const relay = createOutboxRelay({
      db: database.db,
      bus: countingBus(bus, published),
      schemas: [schema],
      logger,
    });
    expect(await relay.runOnce()).toBe(0);
    expect(published).toEqual([]);
  });

  it('a started relay publishes on notify(), in enqueue order', async () => {
    // a poll interval far beyond the test timeout: only notify() can make it publish in time
    const relay = createOutboxRelay({ db: database.db, bus, schemas: [schema], logger, pollMs: 600_000 });
    relay.start();
    const before = await counter();
    const ids: string[] = [];
    for (const id of ['t3', 't4', 't5']) ids.push((await createThing(id)).id);
    relay.notify();
    await waitFor(() => ids.every((id) => handled.includes(id)), 'three events to be handled');
    await relay.stop();
    expect(handled.filter((id) => ids.includes(id))).toEqual(ids);
    expect(await counter()).toBe(before + 3);
  });
}

describe('outbox → relay → inbox over the in-process bus', () => {
  relayScenario(
    'msgtest_inproc',
    () => Promise.resolve(createInProcessBus(logger, { baseDelayMs: 10 })),
    () => Promise.resolve(),
  );
});

const natsUrl = process.env.NATS_URL;

describe.skipIf(!natsUrl)('outbox → relay → inbox over JetStream', () => {
  const isolated = isolatedStream();
  const duplicateWindowMs = 300;

  relayScenario(
    'msgtest_js',
    async () =>
      createJetStreamBus({ url: natsUrl ?? '', logger, ...isolated, duplicateWindowMs, retryBaseMs: 50 }),
    // outlive the stream's duplicate window, so the second publish is stored and the inbox,
    // not the stream, is what keeps the effect single
    () => sleep(duplicateWindowMs * 4),
  );

  afterAll(async () => {
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(isolated.stream).catch(() => false);
    await nc.close();
  });
});

describe('several relays on one outbox', () => {
  const schema = 'msgtest_shared';

  beforeAll(async () => {
    await migrateAll(database.db, [{ schema, migrations: { '0000-messaging': outboxMigration(schema) } }]);
  });

  it('publish every row exactly once between them', async () => {
    const events = await database.db.transaction().execute((trx) =>
      enqueue(
        trx,
        schema,
        Array.from({ length: 40 }, (_, i) => ({ type: thingCreated, aggregateId: `a${i}`, data: { i } })),
      ),
    );
    const published: string[] = [];
    const recorder: EventBus = {
      kind: 'in-process',
      async publish(event) {
        // give the other relays a chance to run while this one holds its claimed rows
        await sleep(1);
        published.push(event.id);
      },
      subscribe: () => Promise.resolve(),
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
      describe: () => 'recorder',
    };
    const relays = [1, 2, 3].map(() =>
      createOutboxRelay({ db: database.db, bus: recorder, schemas: [schema], logger, batchSize: 5 }),
    );
    await Promise.all(
      relays.map(async (relay) => {
        while ((await relay.runOnce()) > 0) {
          // keep going until this relay finds nothing left to claim
        }
      }),
    );
    expect([...published].sort()).toEqual(events.map((e) => e.id).sort());
    const left = await messagingTables(database.db, schema)
      .selectFrom('outbox')
      .select('id')
      .where('published_at', 'is', null)
      .execute();
    expect(left).toEqual([]);
  });
});

describe('one relay over several outboxes', () => {
  const schemas = ['msgtest_one', 'msgtest_two'];

  beforeAll(async () => {
    await migrateAll(
      database.db,
      schemas.map((schema) => ({ schema, migrations: { '0000-messaging': outboxMigration(schema) } })),
    );
  });

  it('claims them in one round, in enqueue order per outbox; a failed publish holds back only its own outbox', async () => {
    const enqueued = async (schema: string) =>
      database.db.transaction().execute((trx) =>
        enqueue(
          trx,
          schema,
          [0, 1, 2].map((i) => ({ type: thingCreated, aggregateId: `${schema}-${i}`, data: { i } })),
        ),
      );
    const [one, two] = [await enqueued('msgtest_one'), await enqueued('msgtest_two')];
    const failing = one[1]?.id;
    let failOnce = true;
    const published: string[] = [];
    const recorder: EventBus = {
      kind: 'in-process',
      publish(event) {
        if (event.id === failing && failOnce) {
          failOnce = false;
          return Promise.reject(new Error('bus down'));
        }
        published.push(event.id);
        return Promise.resolve();
      },
      subscribe: () => Promise.resolve(),
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
      describe: () => 'recorder',
    };
    const relay = createOutboxRelay({ db: database.db, bus: recorder, schemas, logger });
    const ids = (events: EventEnvelope[]) => events.map((e) => e.id);

    // the first outbox stops at its failed row; the second goes out whole
    expect(await relay.runOnce()).toBe(4);
    expect(published).toEqual([...ids(one).slice(0, 1), ...ids(two)]);
    const failed = await messagingTables(database.db, 'msgtest_one')
      .selectFrom('outbox')
      .select(['id', 'attempts', 'published_at'])
      .where('published_at', 'is', null)
      .orderBy('seq')
      .execute();
    expect(failed.map((r) => [r.id, r.attempts])).toEqual([
      [one[1]?.id, 1],
      [one[2]?.id, 0],
    ]);

    // the next round takes up where it stopped, in order
    expect(await relay.runOnce()).toBe(2);
    expect(published).toEqual([...ids(one).slice(0, 1), ...ids(two), ...ids(one).slice(1)]);
    expect(await relay.runOnce()).toBe(0);
  });
});
