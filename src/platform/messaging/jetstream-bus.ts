import { setImmediate as setImmediatePromise, setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type JsMsg,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { compare, connect, type NatsConnection, parseSemVer } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { type BusSubscription, type EventBus, type EventEnvelope, subjectOf } from './types.js';

/**
 * How long one pull request waits on the server. A process that stops leaves its last one
 * behind until it expires, and the server may hand it events no one will ack, each back only
 * after ack_wait: the client's 30 s default let a restarted process miss events for that long
 * (and a short ack_wait spend its deliveries on the orphan). Renewing every 5 s costs a request.
 */
const PULL_EXPIRES_MS = 5_000;

export interface JetStreamBusOptions {
  url: string;
  logger: Logger;
  /** Stream name. Tests pass their own so they never touch a dev server's stream. */
  stream?: string;
  /** First token of every subject; the stream captures `<prefix>.>`. */
  subjectPrefix?: string;
  /** How long the server remembers message ids to drop re-publishes of the same event. */
  duplicateWindowMs?: number;
  /**
   * How long the stream keeps an event (its `max_age`); unset keeps events forever. Set to the
   * inbox's retention, a replay (a consumer reset, a new one delivering from the start) never
   * reaches an event whose inbox row is gone, so it cannot apply an effect twice.
   */
  maxAgeMs?: number;
  /** Deliveries of one event to one consumer before it is given up (logged, then terminated). */
  maxDeliver?: number;
  /** Time a handler has before the server assumes the consumer died and redelivers. */
  ackWaitMs?: number;
  /** Delay before redelivering after a handler failure; doubles per delivery up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Messages a consumer holds locally; each must be handled within `ackWaitMs`. */
  prefetch?: number;
}

const nanos = (ms: number): number => ms * 1_000_000;

/** Durable names may not contain `.`, `*`, `>`, slashes or whitespace. */
export const durableNameOf = (consumer: string): string => consumer.replace(/[^A-Za-z0-9_-]/g, '_');

const isApiError = (err: unknown, code: number): boolean =>
  err instanceof JetStreamApiError && err.code === code;

interface Running {
  subscription: BusSubscription;
  messages?: ConsumerMessages;
  loop: Promise<void>;
}

export async function createJetStreamBus(options: JetStreamBusOptions): Promise<EventBus> {
  const stream = options.stream ?? 'LECTERN';
  const prefix = options.subjectPrefix ?? 'lectern';
  const maxDeliver = options.maxDeliver ?? 8;
  const ackWaitMs = options.ackWaitMs ?? 30_000;
  const retryBaseMs = options.retryBaseMs ?? 1_000;
  const retryMaxMs = options.retryMaxMs ?? 60_000;
  const prefetch = options.prefetch ?? 16;
  const log = options.logger.child({ component: 'jetstream-bus', stream });

  // reconnect forever: a NATS restart must not leave a long-running process without a bus
  const nc = await connect({ servers: options.url, name: 'lectern', maxReconnectAttempts: -1 });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStream(jsm, stream, {
      subjects: [`${prefix}.>`],
      duplicate_window: nanos(options.duplicateWindowMs ?? 5 * 60_000),
      // 0 is the server's "no limit"
      max_age: options.maxAgeMs === undefined ? 0 : nanos(options.maxAgeMs),
    });
    return makeBus(nc, jsm);
  } catch (err) {
    await nc.close();
    throw err;
  }

  function makeBus(conn: NatsConnection, jsm: JetStreamManager): EventBus {
    const js = jsm.jetstream();
    const running: Running[] = [];
    const stopping = new AbortController();
    // filter_subjects (several filters on one consumer) arrived in nats-server 2.10
    const multiFilter = compare(parseSemVer(conn.info?.version ?? '0.0.0'), parseSemVer('2.10.0')) >= 0;

    async function ensureConsumer(subscription: BusSubscription): Promise<string> {
      const name = durableNameOf(subscription.consumer);
      const subjects = subscription.types.map((t) => subjectOf(t, prefix));
      let filter: Pick<ConsumerConfig, 'filter_subject' | 'filter_subjects'>;
      if (subjects.length === 1) filter = { filter_subject: subjects[0], filter_subjects: undefined };
      else if (multiFilter) filter = { filter_subjects: subjects, filter_subject: undefined };
      // older servers: take the whole prefix and skip unwanted types in the handler
      else filter = { filter_subject: `${prefix}.>`, filter_subjects: undefined };
      const changeable = {
        ...filter,
        ack_wait: nanos(ackWaitMs),
        max_deliver: maxDeliver,
        description: `lectern consumer ${subscription.consumer}`,
      };
      const create: Partial<ConsumerConfig> = {
        ...changeable,
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: subscription.deliverFrom === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
      };
      try {
        await jsm.consumers.info(stream, name);
      } catch (err) {
        if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
        try {
          await jsm.consumers.add(stream, create);
          return name;
        } catch (addErr) {
          // another instance created it first; fall through to update it to our config
          log.debug({ err: addErr, consumer: name }, 'consumer create raced; updating instead');
        }
      }
      await jsm.consumers.update(stream, name, changeable);
      return name;
    }

    async function handleMessage(subscription: BusSubscription, m: JsMsg): Promise<void> {
      let event: EventEnvelope;
      try {
        event = m.json<EventEnvelope>();
      } catch (err) {
        log.error({ err, subject: m.subject, seq: m.seq }, 'undecodable message; terminated');
        m.term('undecodable');
        return;
      }
      if (!subscription.types.includes(event.type)) {
        m.ack();
        return;
      }
      try {
        await subscription.handle(event);
        m.ack();
      } catch (err) {
        const attempt = m.info.deliveryCount;
        const context = {
          err,
          consumer: subscription.consumer,
          eventId: event.id,
          type: event.type,
          attempt,
        };
        if (attempt >= maxDeliver) {
          log.error(context, 'event handler kept failing; event is dead for this consumer');
          m.term('handler failed too often');
          return;
        }
        const delay = Math.min(retryBaseMs * 2 ** (attempt - 1), retryMaxMs);
        log.warn({ ...context, retryInMs: delay }, 'event handler failed; will be redelivered');
        m.nak(delay);
      }
    }

    /**
     * Several buffered messages in one call of the subscription's `handleBatch`; all acked when it
     * succeeds. When it fails, each message goes through `handleMessage` (its own retries and
     * redelivery), so a bad event never holds back the others.
     */
    async function handleBatchOf(subscription: BusSubscription, batch: JsMsg[]): Promise<void> {
      const wanted: { m: JsMsg; event: EventEnvelope }[] = [];
      for (const m of batch) {
        let event: EventEnvelope;
        try {
          event = m.json<EventEnvelope>();
        } catch (err) {
          log.error({ err, subject: m.subject, seq: m.seq }, 'undecodable message; terminated');
          m.term('undecodable');
          continue;
        }
        if (subscription.types.includes(event.type)) wanted.push({ m, event });
        else m.ack();
      }
      if (wanted.length === 0) return;
      try {
        await subscription.handleBatch?.(wanted.map((w) => w.event));
        for (const { m } of wanted) m.ack();
      } catch (err) {
        log.warn(
          { err, consumer: subscription.consumer, events: wanted.length },
          'batch failed; handling its events one at a time',
        );
        for (const { m } of wanted) await handleMessage(subscription, m);
      }
    }

    async function consumeLoop(entry: Running, name: string): Promise<void> {
      // a function, not the property itself: the flag changes across the awaits below
      const stopped = () => stopping.signal.aborted;
      while (!stopped()) {
        try {
          const consumer = await js.consumers.get(stream, name);
          // a batching subscription keeps a batch's worth buffered (each still acked well within ack_wait)
          const buffered = entry.subscription.handleBatch
            ? Math.max(prefetch, entry.subscription.batchSize ?? 100)
            : prefetch;
          const messages = await consumer.consume({ max_messages: buffered, expires: PULL_EXPIRES_MS });
          entry.messages = messages;
          // close() may have run while consume() was starting; stop() is only honoured by
          // iterating, so the loop below still runs and ends at once
          if (stopped()) messages.stop();
          const iterator = messages[Symbol.asyncIterator]();
          const batching = entry.subscription.handleBatch !== undefined;
          const batchSize = Math.max(1, entry.subscription.batchSize ?? 100);
          // a next() that lost the race below: the following round takes its answer
          let ahead: Promise<IteratorResult<JsMsg>> | undefined;
          const pull = () => {
            const next = ahead ?? iterator.next();
            ahead = undefined;
            return next;
          };
          for (let next = await pull(); !next.done; next = await pull()) {
            const m = next.value;
            // hand buffered messages back right away instead of after ack_wait
            if (stopped()) {
              m.nak();
              continue;
            }
            // a subscription that batches takes along what is already buffered (it comes before the
            // next macrotask; getPending() also counts internal entries, so it cannot tell), in order
            const batch = [m];
            while (batching && batch.length < batchSize) {
              const candidate = iterator.next();
              const more = await Promise.race([candidate, setImmediatePromise().then(() => undefined)]);
              if (more === undefined || more.done) {
                ahead = candidate;
                break;
              }
              batch.push(more.value);
            }
            if (batch.length > 1) await handleBatchOf(entry.subscription, batch);
            // one at a time per consumer: events reach a subscriber in stream order
            else await handleMessage(entry.subscription, m);
          }
        } catch (err) {
          if (!stopped()) log.warn({ err, consumer: name }, 'consume stopped; restarting');
        } finally {
          entry.messages = undefined;
        }
        // consume() only ends on close() or an error; pause before asking again
        await sleep(1_000, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    }

    return {
      kind: 'jetstream',
      async publish(event) {
        const ack = await js.publish(subjectOf(event.type, prefix), JSON.stringify(event), {
          // the server drops a second publish of the same event within the duplicate window
          msgID: event.id,
          expect: { streamName: stream },
        });
        if (ack.duplicate) log.debug({ eventId: event.id }, 'duplicate publish dropped by the stream');
      },
      async subscribe(subscription) {
        if (stopping.signal.aborted) throw new Error('event bus is closed');
        if (running.some((r) => r.subscription.consumer === subscription.consumer)) {
          throw new Error(`consumer "${subscription.consumer}" is already subscribed`);
        }
        const name = await ensureConsumer(subscription);
        const entry: Running = { subscription, loop: Promise.resolve() };
        entry.loop = consumeLoop(entry, name).catch((err: unknown) => {
          log.error({ err, consumer: name }, 'consumer loop failed');
        });
        running.push(entry);
      },
      async ping() {
        if (conn.isClosed()) throw new Error('NATS connection is closed');
        // rtt waits for a reconnect; a health check wants a prompt answer instead
        const timer = new AbortController();
        const timeout = sleep(2_000, undefined, { signal: timer.signal }).then(() => {
          throw new Error('NATS did not answer within 2 s');
        });
        try {
          await Promise.race([conn.rtt(), timeout]);
        } finally {
          timer.abort();
        }
      },
      async close() {
        if (stopping.signal.aborted) return;
        stopping.abort();
        // stop() ends each consume loop once it has finished the event in hand
        for (const r of running) r.messages?.stop();
        await Promise.all(running.map((r) => r.loop));
        // drain flushes pending acks before the connection closes
        if (!conn.isClosed()) await conn.drain();
      },
      describe: () => `NATS JetStream at ${redact(options.url)} (stream ${stream}, subjects ${prefix}.>)`,
    };
  }
}

/** The stream settings this process owns; an existing stream is updated to them. */
interface StreamLimits {
  subjects: string[];
  duplicate_window: number;
  max_age: number;
}

async function ensureStream(jsm: JetStreamManager, stream: string, config: StreamLimits): Promise<void> {
  try {
    await jsm.streams.info(stream);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      await jsm.streams.add({
        name: stream,
        ...config,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        description: 'Lectern domain events',
      });
      return;
    } catch (addErr) {
      // another instance may have created it meanwhile; then it only needs our settings
      const exists = await jsm.streams.info(stream).then(
        () => true,
        () => false,
      );
      if (!exists) throw addErr;
    }
  }
  await jsm.streams.update(stream, config);
}

function redact(url: string): string {
  return url
    .split(',')
    .map((u) => {
      try {
        const parsed = new URL(u.trim());
        return `${parsed.protocol}//${parsed.host}`;
      } catch {
        return '(unparsable url)';
      }
    })
    .join(',');
}
