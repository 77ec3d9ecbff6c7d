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

/** An outbox row claimed by a round, with the index of its schema in `schemas`. */
interface ClaimedRow {
  schema_index: number;
  id: string;
  type: string;
  version: number;
  aggregate_id: string;
  data: unknown;
  occurred_at: Date | string;
  attempts: number;
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

  /**
   * One round over every schema in one transaction: one statement claims each outbox's oldest
   * unpublished rows (a CTE per schema, each `FOR UPDATE SKIP LOCKED`), one marks what went out.
   * Per schema it would be a begin, a select, an update and a commit each, and most rounds find
   * most outboxes empty.
   */
  async function round(): Promise<Round> {
    if (schemas.length === 0) return { published: 0, more: false, failed: false };
    return db.transaction().execute(async (trx) => {
      const claims = schemas.map(
        (schema, i) =>
          sql`${sql.id(`o${i}`)} as (select ${sql.lit(i)}::int as schema_index, id, type, version, aggregate_id, data, occurred_at, attempts, seq from ${sql.table(`${schema}.outbox`)} where published_at is null order by seq limit ${batchSize} for update skip locked)`,
      );
      const all = sql.join(
        schemas.map((_, i) => sql`select * from ${sql.id(`o${i}`)}`),
        sql` union all `,
      );
      const { rows } =
        await sql<ClaimedRow>`with ${sql.join(claims)} ${all} order by schema_index, seq`.execute(trx);
      const published = schemas.map((): string[] => []);
      const claimed = schemas.map(() => 0);
      const failedSchemas = new Set<number>();
      for (const row of rows) {
        const i = row.schema_index;
        claimed[i] = (claimed[i] ?? 0) + 1;
        // later rows of a schema whose publish failed wait, so a subscriber never sees an event
        // before the ones enqueued earlier
        if (failedSchemas.has(i)) continue;
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
          published[i]?.push(row.id);
        } catch (err) {
          failedSchemas.add(i);
          const schema = schemas[i] ?? '';
          log.warn(
            { err, schema, eventId: row.id, type: row.type, attempts: row.attempts + 1 },
            'publish failed',
          );
          await messagingTables(trx, schema)
            .updateTable('outbox')
            .set({ attempts: sql<number>`attempts + 1`, last_error: String(err).slice(0, 2000) })
            .where('id', '=', row.id)
            .execute();
        }
      }
      const marks = schemas.flatMap((schema, i) => {
        const ids = published[i] ?? [];
        return ids.length === 0
          ? []
          : [
              sql`${sql.id(`u${i}`)} as (update ${sql.table(`${schema}.outbox`)} set published_at = now() where id = any(${ids}::uuid[]))`,
            ];
      });
      if (marks.length > 0) await sql`with ${sql.join(marks)} select 1`.execute(trx);
      return {
        published: published.reduce((n, ids) => n + ids.length, 0),
        more: claimed.some((n, i) => n === batchSize && !failedSchemas.has(i)),
        failed: failedSchemas.size > 0,
      };
    });
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
