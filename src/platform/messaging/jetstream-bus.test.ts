import { randomUUID } from 'node:crypto';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from './create-bus.js';
import { createJetStreamBus, durableNameOf } from './jetstream-bus.js';
import { capturingLogger, isolatedStream, waitFor } from './test-support.js';
import type { EventBus, EventEnvelope } from './types.js';

const natsUrl = process.env.NATS_URL;

const event = (type: string): EventEnvelope => ({
  id: randomUUID(),
  type,
  version: 1,
  occurredAt: new Date().toISOString(),
  aggregateId: 'a-1',
  data: { hello: 'world' },
});

describe.skipIf(!natsUrl)('JetStream bus', () => {
  const isolated = isolatedStream();
  const { logger, lines } = capturingLogger();
  let bus: EventBus;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    bus = await createJetStreamBus({
      url: natsUrl ?? '',
      logger,
      ...isolated,
      retryBaseMs: 20,
      maxDeliver: 3,
    });
    nc = await connect({ servers: natsUrl });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    await bus.close();
    await jsm.streams.delete(isolated.stream).catch(() => false);
    await nc.close();
  });

  it('hands a batching subscription the buffered events in stream order, each once, one by one after a failed batch', async () => {
    // published before the consumer exists, so they wait in the stream and arrive buffered together
    const events = Array.from({ length: 12 }, () => event('test.batch.made'));
    for (const e of events) await bus.publish(e);
    const order: string[] = [];
    const sizes: number[] = [];
    let failFirstBatch = true;
    await bus.subscribe({
      consumer: 'test.batching',
      types: ['test.batch.made'],
      batchSize: 5,
      handle(e) {
        order.push(e.id);
        return Promise.resolve();
      },
      handleBatch(batch) {
        if (failFirstBatch) {
          failFirstBatch = false;
          return Promise.reject(new Error('first batch fails'));
        }
        sizes.push(batch.length);
        order.push(...batch.map((e) => e.id));
        return Promise.resolve();
      },
    });
    await waitFor(() => order.length >= 12, 'every event to be applied').catch((err: unknown) => {
      throw new Error(
        `${String(err)}: ${order.length} applied, batches ${sizes.join(',')}, failed first ${!failFirstBatch}`,
      );
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(order).toEqual(events.map((e) => e.id));
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
    expect(failFirstBatch).toBe(false);
    const ci = await jsm.consumers.info(isolated.stream, durableNameOf('test.batching'));
    expect(ci.num_ack_pending).toBe(0);
  });

  it('creates its stream on the configured prefix and answers ping', async () => {
    const info = await jsm.streams.info(isolated.stream);
    expect(info.config.subjects).toEqual([`${isolated.subjectPrefix}.>`]);
    await bus.ping();
    expect(bus.describe()).toContain(isolated.stream);
  });

  it('stores an event published twice with the same id once', async () => {
    const e = event('test.dedupe.checked');
    await bus.publish(e);
    await bus.publish(e);
    await bus.publish({ ...e, id: randomUUID() });
    const info = await jsm.streams.info(isolated.stream, {
      subjects_filter: `${isolated.subjectPrefix}.test.dedupe.>`,
    });
    expect(info.state.subjects).toEqual({ [`${isolated.subjectPrefix}.test.dedupe.checked`]: 2 });
  });

  it('redelivers after a handler failure, to a durable consumer named after the subscription', async () => {
    const deliveries: string[] = [];
    const applied: string[] = [];
    await bus.subscribe({
      consumer: 'test.redelivery',
      types: ['test.redelivery.requested'],
      handle(e) {
        deliveries.push(e.id);
        if (deliveries.length === 1) return Promise.reject(new Error('first delivery fails'));
        applied.push(e.id);
        return Promise.resolve();
      },
    });
    const e = event('test.redelivery.requested');
    await bus.publish(e);
    await waitFor(() => applied.length === 1, 'the redelivered event to be applied');
    expect(deliveries).toEqual([e.id, e.id]);
    const ci = await jsm.consumers.info(isolated.stream, durableNameOf('test.redelivery'));
    expect(ci.config).toMatchObject({ durable_name: 'test_redelivery', max_deliver: 3 });
  });

  it('gives up after max_deliver and logs the event as dead', async () => {
    let calls = 0;
    await bus.subscribe({
      consumer: 'test.always-fails',
      types: ['test.broken.handled'],
      handle: () => {
        calls += 1;
        return Promise.reject(new Error('always'));
      },
    });
    const e = event('test.broken.handled');
    await bus.publish(e);
    await waitFor(() => lines.some((l) => l.level === 50 && l.eventId === e.id), 'the dead-event log line');
    expect(calls).toBe(3);
  });

  it('a restarted process re-subscribes to its durable consumer with the new types', async () => {
    // the closed process's last pull request may outlive it on the server (until it expires), and
    // an event handed to it comes again only after ack_wait: a short one keeps that case within
    // the wait below (the test timed out once with the default 30 s)
    const options = { url: natsUrl ?? '', logger, ...isolated, ackWaitMs: 2_000 };
    const before = await createJetStreamBus(options);
    await before.subscribe({
      consumer: 'test.restart',
      types: ['test.restart.old'],
      handle: () => Promise.resolve(),
    });
    await before.close();

    const after = await createJetStreamBus(options);
    const seen: string[] = [];
    await after.subscribe({
      consumer: 'test.restart',
      types: ['test.restart.new'],
      handle: (e) => {
        seen.push(e.type);
        return Promise.resolve();
      },
    });
    const ci = await jsm.consumers.info(isolated.stream, 'test_restart');
    expect(ci.config.filter_subject).toBe(`${isolated.subjectPrefix}.test.restart.new`);
    await after.publish(event('test.restart.new'));
    await waitFor(() => seen.length === 1, 'the event on the updated consumer');
    await after.close();
    expect(seen).toEqual(['test.restart.new']);
  });

  it('delivers only the subscribed types to a consumer of several types', async () => {
    const seen: string[] = [];
    await bus.subscribe({
      consumer: 'test.several',
      types: ['test.several.a', 'test.several.b'],
      handle: (e) => {
        seen.push(e.type);
        return Promise.resolve();
      },
    });
    await bus.publish(event('test.several.a'));
    await bus.publish(event('test.several.other'));
    await bus.publish(event('test.several.b'));
    await waitFor(() => seen.length >= 2, 'both subscribed events');
    // the unsubscribed event was published between them, so it would have arrived by now
    expect(seen).toEqual(['test.several.a', 'test.several.b']);
  });
});

describe.skipIf(!natsUrl)('JetStream stream age', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams: string[] = [];
  const day = 86_400_000;
  const isolatedOne = () => {
    const one = isolatedStream();
    streams.push(one.stream);
    return one;
  };

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl });
    jsm = await jetstreamManager(nc);
  });

  afterAll(async () => {
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it('keeps events as long as the messaging retention, and sets the age on a stream made without one', async () => {
    const isolated = isolatedOne();
    const ageless = await createJetStreamBus({
      url: natsUrl ?? '',
      logger: capturingLogger().logger,
      ...isolated,
    });
    await ageless.close();
    expect((await jsm.streams.info(isolated.stream)).config.max_age).toBe(0);

    // the platform's path: MESSAGING_RETENTION_DAYS becomes the stream's max_age
    const bus = await createEventBus({
      natsUrl,
      ...isolated,
      retentionDays: 7,
      logger: capturingLogger().logger,
    });
    await bus.close();
    expect((await jsm.streams.info(isolated.stream)).config.max_age).toBe(7 * day * 1_000_000);
  });

  it('drops an event once it is older than the stream age', async () => {
    const isolated = isolatedOne();
    const bus = await createJetStreamBus({
      url: natsUrl ?? '',
      logger: capturingLogger().logger,
      ...isolated,
      maxAgeMs: 1_000,
      // the server refuses a duplicate window longer than the age
      duplicateWindowMs: 500,
    });
    try {
      await bus.publish(event('test.age.kept'));
      expect((await jsm.streams.info(isolated.stream)).state.messages).toBe(1);
      await waitFor(
        async () => (await jsm.streams.info(isolated.stream)).state.messages === 0,
        'the aged event to leave the stream',
      );
    } finally {
      await bus.close();
    }
  });
});
