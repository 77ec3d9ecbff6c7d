import type { Transaction } from 'kysely';
import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { defineEvent } from './messaging/events.js';
import type { DeliveryContext } from './messaging/inbox.js';
import type { EventEnvelope } from './messaging/types.js';
import { eventSubscriber } from './module.js';

const SeatBooked = defineEvent({
  type: 'probe.seat.booked',
  version: 1,
  schema: Type.Object({ seat: Type.Integer() }),
});
const event: EventEnvelope = {
  id: '0b8f3c1e-3f5d-4a55-9a3c-2f0a3a1b2c3d',
  type: 'probe.seat.booked',
  version: 1,
  occurredAt: '2026-12-06T10:00:00.000Z',
  aggregateId: 'seat',
  data: { seat: 7 },
};
// handed through untouched: the subscriber's handlers only pass them on here
const trx = {} as Transaction<object>; // eslint-disable-line @typescript-eslint/no-unsafe-class-instance-assignment
const context: DeliveryContext = { afterCommit: () => undefined };

describe('eventSubscriber', () => {
  it('handles one event as a batch of one when it has handleBatch alone', async () => {
    const batches: unknown[][] = [];
    const subscriber = eventSubscriber({
      consumer: 'probe.seats',
      events: [SeatBooked],
      batchSize: 50,
      handleBatch(events, t, c) {
        expect(t).toBe(trx);
        expect(c).toBe(context);
        batches.push(events.map((e) => e.data.seat));
        return Promise.resolve();
      },
    });
    await subscriber.handle(event, trx, context);
    await subscriber.handleBatch?.([event, { ...event, data: { seat: 8 } }], trx, context);
    expect(batches).toEqual([[7], [7, 8]]);
    expect(subscriber.batchSize).toBe(50);
  });

  it('keeps its own handle for one event beside handleBatch', async () => {
    const calls: string[] = [];
    const subscriber = eventSubscriber({
      consumer: 'probe.seats',
      events: [SeatBooked],
      handle(e) {
        calls.push(`one ${e.data.seat}`);
        return Promise.resolve();
      },
      handleBatch(events) {
        calls.push(`batch ${events.length}`);
        return Promise.resolve();
      },
    });
    await subscriber.handle(event, trx, context);
    await subscriber.handleBatch?.([event], trx, context);
    expect(calls).toEqual(['one 7', 'batch 1']);
  });
});
