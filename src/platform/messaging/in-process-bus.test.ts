import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createInProcessBus } from './in-process-bus.js';
import { capturingLogger, waitFor } from './test-support.js';
import type { EventEnvelope } from './types.js';

const event = (type = 'test.thing.happened'): EventEnvelope => ({
  id: randomUUID(),
  type,
  version: 1,
  occurredAt: new Date().toISOString(),
  aggregateId: 'a-1',
  data: { n: 1 },
});

describe('in-process bus', () => {
  it('delivers after publish returns, only to subscriptions of that type', async () => {
    const { logger } = capturingLogger();
    const bus = createInProcessBus(logger);
    const seen: string[] = [];
    await bus.subscribe({
      consumer: 'test.a',
      types: ['test.thing.happened'],
      handle: (e) => {
        seen.push(e.id);
        return Promise.resolve();
      },
    });
    await bus.subscribe({
      consumer: 'test.b',
      types: ['test.other'],
      handle: () => {
        seen.push('wrong');
        return Promise.resolve();
      },
    });

    const e = event();
    const published = bus.publish(e);
    // still inside the publisher's synchronous stack: nothing may have run yet
    expect(seen).toEqual([]);
    await published;
    await waitFor(() => seen.length === 1, 'the delivery');
    await bus.close();
    expect(seen).toEqual([e.id]);
  });

  it('redelivers to a handler that threw until it succeeds', async () => {
    const { logger, lines } = capturingLogger();
    const bus = createInProcessBus(logger, { baseDelayMs: 5 });
    let calls = 0;
    const applied: string[] = [];
    await bus.subscribe({
      consumer: 'test.flaky',
      types: ['test.thing.happened'],
      handle(e) {
        calls += 1;
        if (calls < 3) return Promise.reject(new Error(`flaky ${calls}`));
        applied.push(e.id);
        return Promise.resolve();
      },
    });
    const e = event();
    await bus.publish(e);
    await waitFor(() => applied.length === 1, 'the third delivery to succeed');
    await bus.close();
    expect(calls).toBe(3);
    expect(applied).toEqual([e.id]);
    expect(lines.filter((l) => l.msg === 'event handler failed; will retry')).toHaveLength(2);
  });

  it('gives up after maxAttempts and logs the event as dead', async () => {
    const { logger, lines } = capturingLogger();
    const bus = createInProcessBus(logger, { baseDelayMs: 1, maxAttempts: 3 });
    let calls = 0;
    await bus.subscribe({
      consumer: 'test.broken',
      types: ['test.thing.happened'],
      handle: () => {
        calls += 1;
        return Promise.reject(new Error('always'));
      },
    });
    const e = event();
    await bus.publish(e);
    await waitFor(() => lines.some((l) => l.level === 50 && l.eventId === e.id), 'the dead-event log line');
    await bus.close();
    expect(calls).toBe(3);
  });

  it('close() waits for a delivery in flight', async () => {
    const { logger } = capturingLogger();
    const bus = createInProcessBus(logger);
    let release: () => void = () => undefined;
    let started = false;
    let finished = false;
    await bus.subscribe({
      consumer: 'test.slow',
      types: ['test.thing.happened'],
      async handle() {
        started = true;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        finished = true;
      },
    });
    await bus.publish(event());
    await waitFor(() => started, 'the handler to start');

    let closed = false;
    const closing = bus.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(finished).toBe(true);
    await expect(bus.publish(event())).rejects.toThrow(/closed/);
  });
});

describe('in-process bus, batching subscriptions', () => {
  it('hands over the waiting events in order, at most batchSize at once, and one by one after a failed batch', async () => {
    const { logger } = capturingLogger();
    const bus = createInProcessBus(logger);
    const batches: string[][] = [];
    const singles: string[] = [];
    const order: string[] = [];
    let failNext = false;
    await bus.subscribe({
      consumer: 'test.batching',
      types: ['test.thing.happened'],
      batchSize: 3,
      handle: (e) => {
        singles.push(e.id);
        order.push(e.id);
        return Promise.resolve();
      },
      handleBatch: (events) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('batch failed'));
        }
        batches.push(events.map((e) => e.id));
        order.push(...events.map((e) => e.id));
        return Promise.resolve();
      },
    });
    const events = Array.from({ length: 7 }, () => event());
    for (const e of events) await bus.publish(e);
    await waitFor(() => batches.flat().length + singles.length === 7, 'the deliveries');
    expect(order).toEqual(events.map((e) => e.id));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(3);
    expect(batches.length).toBeGreaterThan(0);

    failNext = true;
    singles.length = 0;
    const more = [event(), event()];
    for (const e of more) await bus.publish(e);
    await waitFor(() => singles.length === 2, 'the single deliveries after the failed batch');
    expect(singles).toEqual(more.map((e) => e.id));
    await bus.close();
  });
});

describe('in-process bus under a burst', () => {
  it('holds a publisher back while a lane has maxQueued events waiting, and delivers every event in order', async () => {
    const { logger } = capturingLogger();
    const bus = createInProcessBus(logger, { maxQueued: 10 });
    const delivered: string[] = [];
    let mostWaiting = 0;
    let published = 0;
    await bus.subscribe({
      consumer: 'test.burst',
      types: ['test.thing.happened'],
      batchSize: 4,
      handle: () => Promise.reject(new Error('a batch never fails here')),
      async handleBatch(events) {
        // what the bus holds for this lane now: accepted by publish, not handed over yet
        mostWaiting = Math.max(mostWaiting, published - delivered.length - events.length);
        await new Promise((resolve) => setTimeout(resolve, 1));
        delivered.push(...events.map((e) => e.id));
      },
    });
    const events = Array.from({ length: 500 }, () => event());
    // as the relay does: one at a time, each publish awaited
    for (const e of events) {
      await bus.publish(e);
      published += 1;
    }
    await waitFor(() => delivered.length === events.length, 'every delivery');
    await bus.close();
    expect(delivered).toEqual(events.map((e) => e.id));
    // without the bound the whole burst waits at once (about 496)
    expect(mostWaiting).toBeLessThanOrEqual(10);
  });

  it('queues every event of publishers that do not wait, and close() still delivers them all', async () => {
    const { logger } = capturingLogger();
    const bus = createInProcessBus(logger, { maxQueued: 5 });
    const delivered: string[] = [];
    await bus.subscribe({
      consumer: 'test.burst',
      types: ['test.thing.happened'],
      async handle(e) {
        await new Promise((resolve) => setImmediate(resolve));
        delivered.push(e.id);
      },
    });
    const events = Array.from({ length: 50 }, () => event());
    let resolved = 0;
    const publishes = events.map((e) =>
      bus.publish(e).then(() => {
        resolved += 1;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    // the first five fit; the rest are queued but their publishers wait
    expect(resolved).toBe(5);
    await Promise.all(publishes);
    await bus.close();
    expect(delivered).toEqual(events.map((e) => e.id));
  });
});
