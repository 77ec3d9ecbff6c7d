import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Cache } from '../../platform/cache/cache.js';

/** A new inbox item as it travels between instances: the row, rendered per reader at the edge. */
export interface LiveItem {
  recipientId: string;
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

export type LiveListener = (item: LiveItem) => void;

/**
 * New inbox items for the clients connected to this instance, whichever instance created them:
 * Redis pub/sub when the platform has Redis (every instance gets every item and keeps those of
 * its own clients), an in-process emitter on the embedded default. Pub/sub is fire-and-forget on
 * purpose: a client that was away reads the inbox; the stream only saves it polling.
 */
export interface LiveHub {
  kind: 'redis' | 'memory';
  publish(items: LiveItem[]): Promise<void>;
  /** Listen for one recipient's items; returns the unsubscribe. */
  listen(recipientId: string, listener: LiveListener): () => void;
  /** How many streams listen on this instance. */
  listeners(): number;
  close(): Promise<void>;
}

export function createLiveHub(options: { cache: Cache; logger: Logger; channel: string }): LiveHub {
  const local = new EventEmitter();
  // one listener per open stream: thousands are expected, not a leak
  local.setMaxListeners(0);
  let count = 0;
  const deliver = (items: LiveItem[]) => {
    for (const item of items) local.emit(item.recipientId, item);
  };
  const listen = (recipientId: string, listener: LiveListener) => {
    local.on(recipientId, listener);
    count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      count--;
      local.off(recipientId, listener);
    };
  };

  const shared = options.cache.redis;
  if (!shared) {
    return {
      kind: 'memory',
      publish: (items) => {
        deliver(items);
        return Promise.resolve();
      },
      listen,
      listeners: () => count,
      close: () => Promise.resolve(),
    };
  }

  // a subscribed connection can run no other command, and the cache's key prefix must not
  // split the channel between instances that use different prefixes: two connections of our own
  const connectionOptions = { ...shared.options, keyPrefix: '', lazyConnect: false };
  const publisher = new Redis(connectionOptions);
  const subscriber = new Redis(connectionOptions);
  for (const connection of [publisher, subscriber]) {
    connection.on('error', (err: unknown) => {
      options.logger.warn({ err }, 'notify live channel: Redis error');
    });
  }
  const ready = subscriber.subscribe(options.channel).catch((err: unknown) => {
    options.logger.error({ err }, 'notify live channel: could not subscribe');
  });
  subscriber.on('message', (channel: string, message: string) => {
    if (channel !== options.channel) return;
    try {
      deliver(JSON.parse(message) as LiveItem[]);
    } catch (err) {
      options.logger.warn({ err }, 'notify live channel: unreadable message');
    }
  });
  return {
    kind: 'redis',
    async publish(items) {
      if (items.length === 0) return;
      await ready;
      await publisher.publish(options.channel, JSON.stringify(items));
    },
    listen,
    listeners: () => count,
    async close() {
      await Promise.all(
        [publisher, subscriber].map((c) =>
          c.quit().catch(() => {
            c.disconnect();
          }),
        ),
      );
    },
  };
}
