import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Kysely, Migration } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import type { Database } from '../db/database.js';
import { migrateAll } from '../db/migrations.js';
import { eventSubscriber } from '../module.js';
import { deadLetterTables, deadLettersMigration } from './dead-letters.js';
import { defineEvent, EventSchemaError } from './events.js';
import { createInProcessBus } from './in-process-bus.js';
import { subscriptionFor } from './inbox.js';
import { createJetStreamBus } from './jetstream-bus.js';
import { enqueue, messagingTables, outboxMigration } from './outbox.js';
import { createOutboxRelay } from './relay.js';
import { capturingLogger, isolatedStream, waitFor } from './test-support.js';
import type { BusSubscription, EventBus, EventEnvelope } from './types.js';

const lessonBooked = defineEvent({
  type: 'evtest.lesson.booked',
  version: 1,
  schema: Type.Object({
    lessonId: Type.String({ format: 'uuid' }),
    seats: Type.Integer({ minimum: 1 }),
    note: Type.Union([Type.String(), Type.Null()]),
  }),
});
const lessonBookedV2 = defineEvent({
  type: 'evtest.lesson.booked',
  version: 2,
  schema: Type.Object({ lessonId: Type.String({ format: 'uuid' }), seatIds: Type.Array(Type.String()) }),
});
const lessonCancelled = defineEvent({
  type: 'evtest.lesson.cancelled',
  version: 1,
  schema: Type.Object({ lessonId: Type.String({ format: 'uuid' }), reason: Type.String() }),
});

type Tables = { bookings: { id: string } };
const bookingsTable = (schema: string): Migration => ({
  async up(db: Kysely<unknown>) {
    await db.schema
      .withSchema(schema)
      .createTable('bookings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .execute();
  },
});

const L1 = '0f8b1b8e-3d5c-4a8f-9d1e-2b7c6a5d4e3f';
const L2 = '1f8b1b8e-3d5c-4a8f-9d1e-2b7c6a5d4e3f';
const L3 = '2f8b1b8e-3d5c-4a8f-9d1e-2b7c6a5d4e3f';

let database: Database;

beforeAll(async () => {
  database = await freshDatabase();
  await migrateAll(database.db, [
    { schema: 'platform', migrations: { '0002_dead_letters': deadLettersMigration } },
  ]);
});
afterAll(async () => {
  await database.close();
});

describe('event definitions', () => {
  it('create() builds a NewEvent with the type and version, typed by the schema', () => {
    const event = lessonBooked.create(L1, { lessonId: L1, seats: 2, note: null });
    expect(event).toMatchObject({ type: 'evtest.lesson.booked', version: 1, aggregateId: L1 });
    expectTypeOf(event.type).toEqualTypeOf<'evtest.lesson.booked'>();
    // @ts-expect-error seats must be a number
    lessonBooked.create(L1, { lessonId: L1, seats: '2', note: null });
  });

  it('problems() names the offending fields', () => {
    expect(lessonBooked.problems({ lessonId: L1, seats: 1, note: 'x' })).toBeUndefined();
    const problems = lessonBooked.problems({ lessonId: 'nope', seats: 0, note: null });
    expect(problems).toContain('/lessonId');
    expect(problems).toContain('/seats');
  });

  it('eventSubscriber narrows data by type and derives the types to subscribe to', () => {
    const subscriber = eventSubscriber({
      consumer: 'evtest.types',
      events: [lessonBooked, lessonCancelled],
      async handle(event) {
        if (event.type === 'evtest.lesson.booked') {
          expectTypeOf(event.data.seats).toEqualTypeOf<number>();
          expectTypeOf(event.data.note).toEqualTypeOf<string | null>();
        } else {
          expectTypeOf(event.data.reason).toEqualTypeOf<string>();
        }
        await Promise.resolve();
      },
    });
    expect(subscriber.types).toEqual(['evtest.lesson.booked', 'evtest.lesson.cancelled']);
    expect(subscriber.events).toEqual([lessonBooked, lessonCancelled]);
  });
});

describe('publishing a typed event', () => {
  const schema = 'evtest_publish';

  beforeAll(async () => {
    await migrateAll(database.db, [
      {
        schema,
        migrations: { '0000-messaging': outboxMigration(schema), '0001-test': bookingsTable(schema) },
      },
    ]);
  });

  const book = (id: string, data: unknown) =>
    database.db.transaction().execute(async (trx) => {
      await trx.withTables<Tables>().withSchema(schema).insertInto('bookings').values({ id }).execute();
      // a publisher bug the type checker cannot see (data built from an untyped source)
      return enqueue(trx, schema, [lessonBooked.create(id, data as never)]);
    });

  it('writes a valid event with its version', async () => {
    const [event] = await book('b1', { lessonId: L1, seats: 1, note: null });
    const row = await messagingTables(database.db, schema)
      .selectFrom('outbox')
      .select(['type', 'version', 'data'])
      .where('id', '=', event?.id ?? '')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      type: 'evtest.lesson.booked',
      version: 1,
      data: { lessonId: L1, seats: 1, note: null },
    });
  });

  it('fails the transaction on data that does not match, naming the field', async () => {
    const failed = book('b2', { lessonId: L1, seats: 1.5, note: null });
    await expect(failed).rejects.toBeInstanceOf(EventSchemaError);
    await expect(failed).rejects.toThrow(/evtest\.lesson\.booked v1.*\/seats must be integer/);
    const bookings = await database.db
      .withTables<Tables>()
      .withSchema(schema)
      .selectFrom('bookings')
      .select('id')
      .where('id', '=', 'b2')
      .execute();
    expect(bookings).toEqual([]);
    const rows = await messagingTables(database.db, schema)
      .selectFrom('outbox')
      .select('id')
      .where('aggregate_id', '=', 'b2')
      .execute();
    expect(rows).toEqual([]);
  });

  it('still takes plain events without a definition', async () => {
    const events = await database.db
      .transaction()
      .execute((trx) =>
        enqueue(trx, schema, [{ type: 'evtest.other.happened', aggregateId: 'x', data: { any: 1 } }]),
      );
    expect(events).toHaveLength(1);
  });
});

/** Typed delivery and dead-lettering through the outbox relay and a real bus. */
function deliveryScenario(schema: string, makeBus: () => Promise<EventBus>) {
  const consumer = `${schema}.bookings`;
  const { logger, lines } = capturingLogger();
  const handled: { type: string; data: unknown }[] = [];
  let bus: EventBus;
  let subscription: BusSubscription;
  const delivered: string[] = [];

  beforeAll(async () => {
    await migrateAll(database.db, [{ schema, migrations: { '0000-messaging': outboxMigration(schema) } }]);
    bus = await makeBus();
    const subscriber = eventSubscriber({
      consumer,
      events: [lessonBooked, lessonCancelled],
      async handle(event) {
        handled.push({ type: event.type, data: event.data });
        await Promise.resolve();
      },
    });
    subscription = subscriptionFor(database.db, schema, subscriber, { logger });
    await bus.subscribe({
      ...subscription,
      async handle(event) {
        await subscription.handle(event);
        delivered.push(event.id);
      },
    });
  });
  afterAll(async () => {
    await bus.close();
  });

  const publishAll = async (events: Parameters<typeof enqueue>[2]): Promise<EventEnvelope[]> => {
    const envelopes = await database.db.transaction().execute((trx) => enqueue(trx, schema, events));
    const relay = createOutboxRelay({ db: database.db, bus, schemas: [schema], logger });
    while ((await relay.runOnce()) > 0) {
      // until the outbox is empty
    }
    return envelopes;
  };

  const deadLetters = () =>
    deadLetterTables(database.db)
      .selectFrom('dead_letters')
      .select(['event_id', 'type', 'reason', 'envelope'])
      .where('consumer', '=', consumer)
      .orderBy('id')
      .execute();

  it('hands typed, checked data to the handler', async () => {
    await publishAll([
      lessonBooked.create(L1, { lessonId: L1, seats: 3, note: '靠窗' }),
      lessonCancelled.create(L1, { lessonId: L1, reason: 'ill' }),
    ]);
    await waitFor(() => handled.length === 2, 'two typed events');
    expect(handled).toEqual([
      { type: 'evtest.lesson.booked', data: { lessonId: L1, seats: 3, note: '靠窗' } },
      { type: 'evtest.lesson.cancelled', data: { lessonId: L1, reason: 'ill' } },
    ]);
  });

  it('dead-letters bad data and unknown versions once, and keeps handling what follows', async () => {
    const before = handled.length;
    // a publisher on an older build, without the definition: nothing checked its data
    const [bad, future, good] = await publishAll([
      { type: lessonBooked.type, aggregateId: L2, data: { lessonId: L2, seats: 'two', note: null } },
      lessonBookedV2.create(L2, { lessonId: L2, seatIds: ['a1'] }),
      lessonBooked.create(L3, { lessonId: L3, seats: 1, note: null }),
    ]);
    await waitFor(
      () => [bad, future, good].every((e) => e !== undefined && delivered.includes(e.id)),
      'three deliveries',
    );
    expect(handled.slice(before)).toEqual([
      { type: lessonBooked.type, data: { lessonId: L3, seats: 1, note: null } },
    ]);

    const rows = await deadLetters();
    expect(rows.map((r) => r.event_id)).toEqual([bad?.id, future?.id]);
    expect(rows[0]?.reason).toMatch(/\/seats must be integer/);
    expect(rows[1]?.reason).toMatch(/unknown version 2/);
    expect(rows[0]?.envelope).toMatchObject({
      id: bad?.id,
      type: lessonBooked.type,
      version: 1,
      aggregateId: L2,
    });

    const inbox = await messagingTables(database.db, schema)
      .selectFrom('inbox')
      .select('event_id')
      .where('event_id', 'in', [bad?.id ?? '', future?.id ?? '', good?.id ?? ''])
      .execute();
    expect(inbox).toHaveLength(3);

    const warnings = lines.filter((l) => l.msg === 'event dead-lettered');
    expect(warnings.map((l) => l.eventId)).toEqual([bad?.id, future?.id]);

    // delivered again (at-least-once): the inbox row keeps it from a second record or log line
    if (bad) await subscription.handle(bad);
    expect(await deadLetters()).toHaveLength(2);
    expect(lines.filter((l) => l.msg === 'event dead-lettered')).toHaveLength(2);
    expect(handled.length).toBe(before + 1);
  });
}

describe('typed delivery over the in-process bus', () => {
  deliveryScenario('evtest_inproc', () =>
    Promise.resolve(createInProcessBus(capturingLogger().logger, { baseDelayMs: 10 })),
  );
});

const natsUrl = process.env.NATS_URL;

describe.skipIf(!natsUrl)('typed delivery over JetStream', () => {
  const isolated = isolatedStream();
  deliveryScenario('evtest_js', () =>
    createJetStreamBus({
      url: natsUrl ?? '',
      logger: capturingLogger().logger,
      ...isolated,
      retryBaseMs: 50,
    }),
  );
  afterAll(async () => {
    const nc = await connect({ servers: natsUrl });
    await (await jetstreamManager(nc)).streams.delete(isolated.stream).catch(() => false);
    await nc.close();
  });
});
