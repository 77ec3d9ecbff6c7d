import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventDefinition, defineEvent } from '../../src/platform/messaging/events.js';
import { outboxMigration } from '../../src/platform/messaging/outbox.js';
import { waitFor } from '../../src/platform/messaging/test-support.js';
import type { EventEnvelope } from '../../src/platform/messaging/types.js';
import { eventSubscriber, type LecternModule } from '../../src/platform/module.js';
import { type Kit, startKit } from '../helpers/kit.js';

const seatBookedV1 = defineEvent({
  type: 'dlprobe.seat.booked',
  version: 1,
  schema: Type.Object({ seat: Type.Integer() }),
});
const seatBookedV2 = defineEvent({
  type: 'dlprobe.seat.booked',
  version: 2,
  schema: Type.Object({ seat: Type.Integer(), row: Type.String() }),
});

// the consumer "learns" version 2 when the test pushes it here, as a new release of it would
const accepted: EventDefinition[] = [seatBookedV1];

function dlProbeModule(): LecternModule {
  return {
    name: 'dlprobe',
    migrations: {
      '0000-messaging': outboxMigration('dlprobe'),
      '0001-seats': {
        async up(db) {
          await db.schema
            .withSchema('dlprobe')
            .createTable('seats')
            .addColumn('event_id', 'text', (c) => c.primaryKey())
            .execute();
        },
      },
    },
    subscribers: [
      {
        ...eventSubscriber({
          consumer: 'dlprobe.seats',
          events: [seatBookedV1],
          async handle(event, trx) {
            await sql`insert into dlprobe.seats (event_id) values (${event.id})`.execute(trx);
          },
        }),
        events: accepted,
      },
    ],
  };
}

describe('dead letters: an operator lists, replays and discards refused events', () => {
  let kit: Kit;
  let adminToken: { token: string };
  let learnerToken: { token: string };

  const envelope = (version: number, data: unknown): EventEnvelope => ({
    id: randomUUID(),
    type: 'dlprobe.seat.booked',
    version,
    occurredAt: new Date().toISOString(),
    aggregateId: 'seat',
    data,
  });
  const applied = async (id: string) =>
    (
      await sql<{ n: number }>`select count(*)::int as n from dlprobe.seats where event_id = ${id}`.execute(
        kit.app.platform.database.db,
      )
    ).rows[0]?.n ?? 0;
  const deadLetters = async (query = '') =>
    kit.expectStatus<{ data: { id: string; eventId: string; reason: string }[]; nextCursor: string | null }>(
      200,
      'GET',
      `/api/v1/admin/dead-letters${query}`,
      { as: adminToken },
    );

  beforeAll(async () => {
    kit = await startKit(() => [dlProbeModule()]);
    adminToken = await kit.caller('admin');
    learnerToken = await kit.caller('learner');
  });
  afterAll(async () => {
    await kit.stop();
  });

  it('keeps a refused event, refuses a replay while the consumer still refuses it, applies it once it accepts', async () => {
    const event = envelope(2, { seat: 7, row: 'C' });
    await kit.app.platform.bus.publish(event);
    await waitFor(async () => (await deadLetters()).data.some((d) => d.eventId === event.id), 'dead letter');
    const letter = (await deadLetters()).data.find((d) => d.eventId === event.id);
    expect(letter?.reason).toMatch(/unknown version 2/);
    const one = await kit.expectStatus<{ eventId: string; envelope: EventEnvelope }>(
      200,
      'GET',
      `/api/v1/admin/dead-letters/${letter?.id}`,
      { as: adminToken },
    );
    expect(one.envelope.data).toEqual({ seat: 7, row: 'C' });

    const refused = await kit.expectStatus<{ code: string }>(
      409,
      'POST',
      `/api/v1/admin/dead-letters/${letter?.id}/replay`,
      { as: adminToken },
    );
    expect(refused.code).toBe('dead-letter.still-refused');
    expect(await applied(event.id)).toBe(0);

    accepted.push(seatBookedV2);
    await kit.expectStatus(200, 'POST', `/api/v1/admin/dead-letters/${letter?.id}/replay`, {
      as: adminToken,
    });
    expect(await applied(event.id)).toBe(1);
    expect((await deadLetters()).data.some((d) => d.eventId === event.id)).toBe(false);
    // the replayed event is in the inbox again: a redelivery from the bus is a no-op
    await kit.app.platform.bus.publish(event);
    await kit.expectStatus(404, 'POST', `/api/v1/admin/dead-letters/${letter?.id}/replay`, {
      as: adminToken,
    });
    expect(await applied(event.id)).toBe(1);
  });

  it('discards, pages newest first, filters, and answers 4xx to bad ids and to non-admins', async () => {
    const events = [envelope(9, { a: 1 }), envelope(9, { a: 2 }), envelope(9, { a: 3 })];
    for (const e of events) await kit.app.platform.bus.publish(e);
    await waitFor(
      async () => (await deadLetters('?type=dlprobe.seat.booked&limit=100')).data.length >= 3,
      'three dead letters',
    );
    const first = await deadLetters('?limit=2&consumer=dlprobe.seats');
    expect(first.data.map((d) => d.eventId)).toEqual([events[2]?.id, events[1]?.id]);
    const second = await deadLetters(`?limit=2&consumer=dlprobe.seats&cursor=${first.nextCursor}`);
    expect(second.data.map((d) => d.eventId)).toEqual([events[0]?.id]);
    expect((await deadLetters('?consumer=someone.else')).data).toEqual([]);

    const target = first.data[0]?.id;
    await kit.expectStatus(204, 'DELETE', `/api/v1/admin/dead-letters/${target}`, { as: adminToken });
    await kit.expectStatus(404, 'DELETE', `/api/v1/admin/dead-letters/${target}`, { as: adminToken });

    await kit.expectStatus(403, 'GET', '/api/v1/admin/dead-letters', { as: learnerToken });
    await kit.expectStatus(401, 'GET', '/api/v1/admin/dead-letters');
    await kit.expectStatus(400, 'GET', '/api/v1/admin/dead-letters/abc', { as: adminToken });
    await kit.expectStatus(400, 'GET', '/api/v1/admin/dead-letters/99999999999999999999', { as: adminToken });
    await kit.expectStatus(404, 'GET', '/api/v1/admin/dead-letters/999999999', { as: adminToken });
    await kit.expectStatus(400, 'GET', '/api/v1/admin/dead-letters?cursor=WyJ4Il0', { as: adminToken });
  });
});
