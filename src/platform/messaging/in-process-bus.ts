import pino, { type Logger } from 'pino';
import type { BusSubscription, EventBus, EventEnvelope } from './types.js';

export interface InProcessBusOptions {
  /** Deliveries per event and subscription before it is logged as dead. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Events a subscription may have waiting before `publish` waits for it to drain to that many
   * (default 1,000). The event is queued either way; only the publisher's promise waits.
   */
  maxQueued?: number;
}

interface Delivery {
  event: EventEnvelope;
  attempt: number;
}

interface Lane {
  subscription: BusSubscription;
  queue: Delivery[];
  running: boolean;
  /** Publishers held back until this lane is back to `maxQueued` events waiting. */
  full: (() => void)[];
}

/**
 * Single-process bus for development and one-node installs. Delivery is at-most-once across
 * restarts (nothing is stored): the outbox has already marked the event published, so an event
 * in flight when the process dies is lost. Use JetStream when that matters.
 *
 * A burst is held in memory until delivered, so `publish` resolves only once every lane it joined
 * has at most `maxQueued` events waiting: a publisher that awaits it (the relay does) is held
 * back instead of queueing the whole outbox at once. A handler must therefore not await `publish`
 * of an event its own lane takes (it would wait for itself); handlers publish through the outbox.
 */
export function createInProcessBus(logger?: Logger, options: InProcessBusOptions = {}): EventBus {
  const log = (logger ?? pino({ name: 'messaging' })).child({ component: 'in-process-bus' });
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 10_000;
  const maxQueued = Math.max(1, options.maxQueued ?? 1000);

  const lanes: Lane[] = [];
  const retryTimers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();
  let closed = false;

  // One lane per subscription, drained one event at a time, so a subscriber sees events in
  // publish order (except retries, which rejoin the back of the queue as on JetStream).
  function kick(lane: Lane): void {
    if (lane.running || lane.queue.length === 0) return;
    lane.running = true;
    const task = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => drain(lane))
      .finally(() => {
        lane.running = false;
        running.delete(task);
        kick(lane);
      });
    running.add(task);
  }

  /** Let held-back publishers go once the lane is back to `maxQueued` (or the bus closes). */
  function release(lane: Lane): void {
    if (lane.full.length === 0 || (lane.queue.length > maxQueued && !closed)) return;
    const waiters = lane.full;
    lane.full = [];
    for (const resume of waiters) resume();
  }

  async function drain(lane: Lane): Promise<void> {
    const { subscription } = lane;
    while (lane.queue.length > 0) {
      if (subscription.handleBatch && lane.queue.length > 1) {
        // what is waiting, up to the batch size, in one call; on failure one at a time, each with
        // its own retries, so a bad event does not hold back the rest
        const batch = lane.queue.splice(0, Math.max(1, subscription.batchSize ?? 100));
        release(lane);
        try {
          await subscription.handleBatch(batch.map((d) => d.event));
          continue;
        } catch (err) {
          log.warn(
            { err, consumer: subscription.consumer, events: batch.length },
            'batch failed; delivering its events one at a time',
          );
        }
        for (const delivery of batch) await deliver(lane, delivery);
        continue;
      }
      const next = lane.queue.shift();
      release(lane);
      if (next) await deliver(lane, next);
    }
  }

  async function deliver(lane: Lane, delivery: Delivery): Promise<void> {
    const { subscription } = lane;
    const { event, attempt } = delivery;
    try {
      await subscription.handle(event);
    } catch (err) {
      const context = { err, consumer: subscription.consumer, eventId: event.id, type: event.type, attempt };
      if (attempt >= maxAttempts) {
        log.error(context, 'event handler kept failing; event is dead for this consumer');
        return;
      }
      if (closed) {
        log.warn(context, 'event handler failed while the bus was closing; no retry');
        return;
      }
      const delay = Math.min(baseDelayMs * 2 ** (attempt - 1), maxDelayMs);
      log.warn({ ...context, retryInMs: delay }, 'event handler failed; will retry');
      const timer = setTimeout(() => {
        retryTimers.delete(timer);
        lane.queue.push({ event, attempt: attempt + 1 });
        kick(lane);
      }, delay);
      retryTimers.add(timer);
    }
  }

  return {
    kind: 'in-process',
    publish(event) {
      if (closed) return Promise.reject(new Error('event bus is closed'));
      const waits: Promise<void>[] = [];
      for (const lane of lanes) {
        if (!lane.subscription.types.includes(event.type)) continue;
        lane.queue.push({ event, attempt: 1 });
        kick(lane);
        if (lane.queue.length > maxQueued) {
          waits.push(new Promise<void>((resolve) => lane.full.push(resolve)));
        }
      }
      return waits.length === 0 ? Promise.resolve() : Promise.all(waits).then(() => undefined);
    },
    subscribe(subscription) {
      if (lanes.some((l) => l.subscription.consumer === subscription.consumer)) {
        return Promise.reject(new Error(`consumer "${subscription.consumer}" is already subscribed`));
      }
      lanes.push({ subscription, queue: [], running: false, full: [] });
      return Promise.resolve();
    },
    ping: () => Promise.resolve(),
    async close() {
      closed = true;
      for (const timer of retryTimers) clearTimeout(timer);
      if (retryTimers.size > 0)
        log.warn({ pending: retryTimers.size }, 'closing with retries pending; dropped');
      retryTimers.clear();
      // publishers held back are let go: their events are queued and are delivered below
      for (const lane of lanes) release(lane);
      // queued events are still delivered: publish() resolved for them, so they count as accepted
      while (running.size > 0) await Promise.all(running);
    },
    describe: () => 'in-process event bus',
  };
}
