import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import type { FieldProblem } from '../../platform/errors.js';
import { Invalid } from './analytics.errors.js';
import { type ClientColumns, insertClientBatch, insertEvents, type RawEvent } from './ingest.queries.js';
import type { BatchReceipt, ClientEvent } from './ingest.schemas.js';
import type { AnalyticsTables } from './tables.js';
import { redactUrlFields } from './url-redaction.js';

/** How far ahead of the server's clock a client's clock may run. */
const FUTURE_SKEW_MS = 5 * 60 * 1000;

/** Who sent a batch: a signed-in user (with their device's id, if sent) or an anonymous client. */
export interface Sender {
  userId?: string | undefined;
  clientId?: string | undefined;
}

export interface IngestService {
  /**
   * Store a batch of client events in one transaction: it resolves only after the rows commit,
   * so an answer of 202 means stored; any failure stores nothing and the client retries the same
   * batch, whose events already stored are skipped by their ids.
   */
  ingest(sender: Sender, events: ClientEvent[]): Promise<BatchReceipt>;
  /** Store domain events inside the caller's transaction (the inbox makes them exactly once). */
  record(trx: Kysely<AnalyticsTables>, events: RawEvent[]): Promise<void>;
}

/**
 * The batch as columns, the first of several events with one id kept: ids in columns, the rest
 * of an event's fields as JSON. One pass and no object per event, because 50 batches of 500 in
 * flight each hold what is built here until their statement has run.
 */
function toColumns(events: ClientEvent[]): ClientColumns {
  const columns: ClientColumns = {
    occurredAt: [],
    kind: [],
    courseId: [],
    lessonId: [],
    eventKey: [],
    props: [],
  };
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    const { id, kind, occurredAt, ...fields } = event;
    const {
      courseId = null,
      lessonId = null,
      ...props
    } = fields as {
      courseId?: string;
      lessonId?: string;
    };
    // a credential in a page URL is never stored
    redactUrlFields(props);
    columns.occurredAt.push(new Date(occurredAt).toISOString());
    columns.kind.push(kind);
    columns.courseId.push(courseId);
    columns.lessonId.push(lessonId);
    columns.eventKey.push(id);
    columns.props.push(JSON.stringify(props));
  }
  return columns;
}

export function createIngestService(deps: {
  db: Kysely<AnalyticsTables>;
  clock: Clock;
  acceptPastDays: number;
}): IngestService {
  const { db, clock, acceptPastDays } = deps;

  /** Times the schema lets through but the store will not take: too old, or in the future. */
  function checkTimes(events: ClientEvent[], now: Date): void {
    const earliest = now.getTime() - acceptPastDays * 86_400_000;
    const latest = now.getTime() + FUTURE_SKEW_MS;
    const problems: FieldProblem[] = [];
    events.forEach((event, i) => {
      const at = Date.parse(event.occurredAt);
      if (!(at >= earliest && at <= latest)) {
        problems.push({
          field: `/body/events/${i}/occurredAt`,
          message: `must lie within the last ${acceptPastDays} days and not in the future`,
        });
      }
    });
    if (problems.length > 0) throw Invalid.events(problems);
  }

  return {
    async ingest(sender, events) {
      const actor = sender.userId ?? (sender.clientId ? `anon:${sender.clientId}` : undefined);
      if (!actor) throw Invalid.clientId();
      const now = clock();
      checkTimes(events, now);
      const columns = toColumns(events);
      const batchSender = { actor, userId: sender.userId ?? null, clientId: sender.clientId ?? null };
      // one statement: it commits on its own, before the answer, or stores nothing
      const accepted = await insertClientBatch(db, batchSender, columns, now);
      return { accepted, duplicates: events.length - accepted };
    },
    async record(trx, events) {
      await insertEvents(trx, events, clock());
    },
  };
}
