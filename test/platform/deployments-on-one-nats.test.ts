import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCache } from '../../src/platform/cache/cache.js';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { createEventBus } from '../../src/platform/messaging/create-bus.js';
import { waitFor } from '../../src/platform/messaging/test-support.js';
import type { EventBus, EventEnvelope } from '../../src/platform/messaging/types.js';
import { createLogger } from '../../src/platform/observability/logger.js';

// Two deployments (staging and a test run, say) share one NATS server and one Redis: each
// takes its stream, subject prefix and key prefix from its settings, and neither sees the other.
const natsUrl = process.env.NATS_URL;
const redisUrl = process.env.REDIS_URL;

describe('NATS and Redis names are settings', () => {
  it('defaults to the LECTERN stream, the lectern subject prefix and the lectern: key prefix', () => {
    const config = loadConfig({});
    expect([config.natsStream, config.natsSubjectPrefix, config.redisKeyPrefix]).toEqual([
      'LECTERN',
      'lectern',
      'lectern:',
    ]);
  });

  it('refuses a stream name or subject prefix NATS would not take as one token', () => {
    for (const bad of ['a.b', 'a*', 'a>', 'a b', 'x'.repeat(65)]) {
      expect(() => loadConfig({ NATS_STREAM: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ NATS_SUBJECT_PREFIX: bad })).toThrow(ConfigError);
    }
  });
});

const deployment = (tag: string) =>
  loadConfig({
    NATS_URL: natsUrl ?? 'nats://127.0.0.1:4222',
    NATS_STREAM: `LECTERN_DEPLOY_${tag}`,
    NATS_SUBJECT_PREFIX: `deploy_${tag}`,
    REDIS_KEY_PREFIX: `deploy-${tag}:`,
  });

const event = (): EventEnvelope => ({
  id: randomUUID(),
  type: 'catalog.course.published',
  version: 1,
  occurredAt: new Date().toISOString(),
  aggregateId: randomUUID(),
  data: {},
});

describe.skipIf(!natsUrl)('two deployments on one NATS server', () => {
  const tags = [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')] as const;
  const configs = tags.map(deployment);
  const buses: EventBus[] = [];
  const seen: [EventEnvelope[], EventEnvelope[]] = [[], []];

  beforeAll(async () => {
    for (const [i, config] of configs.entries()) {
      const bus = await createEventBus({
        natsUrl: config.natsUrl,
        stream: config.natsStream,
        subjectPrefix: config.natsSubjectPrefix,
        logger: createLogger('silent'),
      });
      buses.push(bus);
      // the same durable consumer name and event type in both, as two copies of Lectern would have
      await bus.subscribe({
        consumer: 'learning.grants',
        types: ['catalog.course.published'],
        handle: (e) => {
          seen[i as 0 | 1].push(e);
          return Promise.resolve();
        },
      });
    }
  });

  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    for (const config of configs) await jsm.streams.delete(config.natsStream).catch(() => false);
    await nc.close();
  });

  it('keeps each deployment’s events in its own stream and consumers', async () => {
    const [a, b] = buses;
    if (!a || !b) throw new Error('buses not started');
    const fromA = event();
    const fromB = event();
    await a.publish(fromA);
    await b.publish(fromB);
    await waitFor(() => seen[0].length >= 1 && seen[1].length >= 1, 'each deployment’s own event');
    // give a leak time to arrive before asserting there was none
    await sleep(300);
    expect(seen[0].map((e) => e.id)).toEqual([fromA.id]);
    expect(seen[1].map((e) => e.id)).toEqual([fromB.id]);

    const nc = await connect({ servers: natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      for (const config of configs) {
        const info = await jsm.streams.info(config.natsStream);
        expect(info.config.subjects).toEqual([`${config.natsSubjectPrefix}.>`]);
        expect(info.state.messages).toBe(1);
      }
    } finally {
      await nc.close();
    }
  });
});

describe.skipIf(!redisUrl)('two deployments on one Redis', () => {
  it('keeps each deployment’s keys under its own prefix', async () => {
    const [a, b] = [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')].map((tag) =>
      createCache({ redisUrl, keyPrefix: deployment(tag).redisKeyPrefix }),
    );
    if (!a || !b) throw new Error('caches not started');
    try {
      await a.set('course:1', 'from a', 60);
      expect(await b.get('course:1')).toBeUndefined();
      await b.set('course:1', 'from b', 60);
      expect(await a.get('course:1')).toBe('from a');
      expect(await b.get('course:1')).toBe('from b');
    } finally {
      await a.del('course:1');
      await b.del('course:1');
      await a.close();
      await b.close();
    }
  });
});
