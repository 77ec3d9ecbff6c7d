import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { createCache } from '../../platform/cache/cache.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { CertificateIssuedEvent } from '../learning/index.js';
import { createNotifyModule } from './notify.module.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';

/** An SSE client over fetch, as a browser app with an Authorization header would read it. */
async function openStream(baseUrl: string, token: string) {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/api/v1/me/notifications/stream`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal: controller.signal,
  });
  let text = '';
  let ended = false;
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    if (!reader) return;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // aborted by the test
    }
    ended = true;
  })();
  return {
    response,
    text: () => text,
    ended: () => ended,
    events: () =>
      text
        .split('\n\n')
        .filter((block) => block.includes('event: notification'))
        .map(
          (block) => JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as { id: string; title: string },
        ),
    async close() {
      controller.abort();
      await pump;
    },
  };
}

const listen = async (app: TestApp) => {
  await app.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`;
};

const certificate = (userId: string, title: string) => ({
  certificateId: randomUUID(),
  userId,
  courseId: randomUUID(),
  courseTitle: title,
  verificationId: 'V-1',
  issuedAt: new Date().toISOString(),
});

describe('the notification stream on one instance', () => {
  let t: NotifyTest;
  let base: string;
  beforeAll(async () => {
    t = await startNotify({ settings: { NOTIFY_SSE_HEARTBEAT_SECONDS: 1 } });
    base = await listen(t.app);
  });
  afterAll(async () => {
    await t.stop();
  });

  it('pushes my new items (not other people’s), sends heartbeats, and needs a token', async () => {
    const me = await t.caller('learner');
    const other = await t.caller('learner');
    const anonymous = await fetch(`${base}/api/v1/me/notifications/stream`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');

    const stream = await openStream(base, me.token);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toContain('text/event-stream');
    await waitFor(() => stream.text().includes(': connected'), 'the stream to open');

    await t.emit(CertificateIssuedEvent, certificate(other.id, 'Not mine'));
    await t.emit(CertificateIssuedEvent, certificate(me.id, 'Mine'));
    await waitFor(() => stream.events().length > 0, 'an item on the stream');
    expect(stream.events().map((e) => e.title)).toEqual(['Your certificate for “Mine”']);
    await waitFor(() => stream.text().includes(': ping'), 'a heartbeat');
    await stream.close();
    await waitFor(() => t.notify.live.listeners() === 0, 'the closed stream to be forgotten');
  });
});

describe.runIf(process.env.REDIS_URL)('the notification stream across two instances (Redis)', () => {
  let a: NotifyTest;
  let b: TestApp;
  beforeAll(async () => {
    a = await startNotify();
    const shared = a.app.platform.database;
    // instance B: its own HTTP server, cache, bus and Redis connections, on A's database
    // one deployment: B shares A's Redis key prefix, as every instance of a deployment does
    const cache = createCache({
      redisUrl: process.env.REDIS_URL,
      keyPrefix: a.app.platform.cache.redis?.options.keyPrefix ?? '',
    });
    b = await buildTestApp((platform) => [createNotifyModule(platform)], {
      worker: false,
      platform: { database: { ...shared, close: () => Promise.resolve() }, cache },
    });
  });
  afterAll(async () => {
    await a.stop();
  });

  it('a client on B receives an item created by an event handled on A; B shuts down with the stream open', async () => {
    const me = await a.caller('learner');
    const baseB = await listen(b);
    const stream = await openStream(baseB, await b.tokens.user(me.id, ['learner']));
    await waitFor(() => stream.text().includes(': connected'), 'the stream on B to open');

    await a.emit(CertificateIssuedEvent, certificate(me.id, 'Across instances'));
    await waitFor(() => stream.events().length > 0, 'the item to reach B');
    const [item] = stream.events();
    expect(item?.title).toBe('Your certificate for “Across instances”');
    const inbox = await a.expectStatus<{ data: { id: string }[] }>(200, 'GET', '/api/v1/me/notifications', {
      as: me,
    });
    expect(inbox.data.map((n) => n.id)).toEqual([item?.id]);

    // graceful shutdown must not wait on the open stream
    const started = Date.now();
    await b.stop();
    await waitFor(() => stream.ended(), 'the stream to end');
    expect(Date.now() - started).toBeLessThan(5_000);
    await stream.close();
  });
});
