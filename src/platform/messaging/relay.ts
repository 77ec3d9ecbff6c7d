import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { messagingTables } from './outbox.js';
import type { EventBus, EventEnvelope } from './types.js';

export interface OutboxRelayOptions {
  db: Kysely<object>;
  bus: EventBus;
  /** Schemas whose `outbox` tables this relay publishes. */
  schemas: string[];
  /**
   * Wait after a round that published something but not a full batch. Each round that finds
   * nothing doubles the wait, up to `maxIdlePollMs`; notify() starts a round at once.
   */
  pollMs?: number;
  /** Longest wait between rounds while the outboxes stay empty (default 4 × pollMs). */
  maxIdlePollMs?: number;
  /** Rows claimed per schema per round. */
  batchSize?: number;
  logger: Logger;
}

export interface OutboxRelay {
  /** One round over every schema; resolves with the number of events published. */
  runOnce(): Promise<number>;
  /** Poll in the background until stop(). */
  start(): void;
  /** Start the next round now (call after committing a transaction that enqueued events). */
  notify(): void;
  /** Stop polling; resolves once the round in progress has finished. */
  stop(): Promise<void>;
}

interface Round {
  published: number;
  /** A schema returned a full batch: more rows are probably waiting. */
  more: boolean;
  failed: boolean;
}

const maxBackoffMs = 30_000;

/**
 * Publishes outbox rows to the bus, at least once. Rows are claimed with `FOR UPDATE SKIP
 * LOCKED`, so relays on several instances share the work without publishing the same row at the
 * same time; the claim, the publishes and the `published_at` mark share one transaction, so a
 * relay that dies after publishing leaves its rows unpublished and they go out again. Consumers
 * deduplicate by event id (inbox), and JetStream drops re-publishes inside its duplicate window.
 * Order holds within one relay's batch (seq order, stopping at the first failure); batches that
 * different relays claim concurrently may interleave.
 */
export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, bus, schemas } = options;
  const pollMs = options.pollMs ?? 250;
  // an idle relay still queries every outbox each round, and on PGlite that work shares the one
  // connection (and the main thread) with requests: poll less while nothing is happening
  const maxIdlePollMs = Math.max(pollMs, options.maxIdlePollMs ?? pollMs * 4);
  const batchSize = options.batchSize ?? 100;
  const log = options.logger.child({ component: 'outbox-relay' });

  let loop: Promise<void> | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  // a notify() that arrives mid-round must not be lost: the commit it announces may have
  // happened after this round's query
  let notified = false;

  async function relaySchema(schema: string): Promise<Round> {
    return db.transaction().execute(async (trx) => {
      const t = messagingTables(trx, schema);
      const rows = await t
        .selectFrom('outbox')
        .select(['id', 'type', 'version', 'aggregate_id', 'data', 'occurred_at', 'attempts'])
        .where('published_at', 'is', null)
        .orderBy('seq')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      const published: string[] = [];
      let failed = false;
      for (const row of rows) {
        const event: EventEnvelope = {
          id: row.id,
          type: row.type,
          version: row.version,
          occurredAt: new Date(row.occurred_at).toISOString(),
          aggregateId: row.aggregate_id,
          data: row.data,
        };
        try {
          await bus.publish(event);
          published.push(row.id);
        } catch (err) {
          failed = true;
          log.warn(
            { err, schema, eventId: row.id, type: row.type, attempts: row.attempts + 1 },
            'publish failed',
          );
          await t
            .updateTable('outbox')
            .set({ attempts: sql<number>`attempts + 1`, last_error: String(err).slice(0, 2000) })
            .where('id', '=', row.id)
            .execute();
          // later rows wait, so a subscriber never sees an event before the ones enqueued earlier
          break;
        }
      }
      if (published.length > 0) {
        await t
          .updateTable('outbox')
          .set({ published_at: sql`now()` })
          .where('id', 'in', published)
          .execute();
      }
      return { published: published.length, more: !failed && rows.length === batchSize, failed };
    });
  }

  async function round(): Promise<Round> {
    const total: Round = { published: 0, more: false, failed: false };
    for (const schema of schemas) {
      const r = await relaySchema(schema);
      total.published += r.published;
      total.more ||= r.more;
      total.failed ||= r.failed;
    }
    return total;
  }

  function pause(ms: number): Promise<void> {
    if (notified || stopped) {
      notified = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });
  }

  async function run(): Promise<void> {
    let failures = 0;
    let idleWait = pollMs / 2; // the first empty round waits pollMs
    while (!stopped) {
      let more = false;
      let published = 0;
      try {
        const r = await round();
        more = r.more;
        published = r.published;
        failures = r.failed ? failures + 1 : 0;
      } catch (err) {
        failures += 1;
        log.error({ err }, 'outbox relay round failed');
      }
      if (more) continue;
      idleWait = published > 0 ? pollMs : Math.min(idleWait * 2, maxIdlePollMs);
      // back off while the bus or database is down instead of logging every poll
      await pause(failures > 0 ? Math.min(pollMs * 2 ** failures, maxBackoffMs) : idleWait);
    }
  }

  return {
    async runOnce() {
      return (await round()).published;
    },
    start() {
      if (loop) return;
      stopped = false;
      loop = run();
    },
    notify() {
      if (wake) wake();
      else notified = true;
    },
    async stop() {
      stopped = true;
      wake?.();
      await loop;
      loop = undefined;
    },
  };
}
