/** The envelope every event travels in, on the bus and in the outbox. */
export interface EventEnvelope<T = unknown> {
  /** UUID; consumers deduplicate on it. */
  id: string;
  /** `<module>.<entity>.<past tense>`, e.g. `commerce.order.paid`. */
  type: string;
  /** Version of `data`'s shape for this type. */
  version: number;
  /** ISO-8601 UTC. */
  occurredAt: string;
  aggregateId: string;
  data: T;
}

/** What a service hands to the outbox; id and time are filled in there. */
export interface NewEvent<T = unknown> {
  type: string;
  aggregateId: string;
  data: T;
  version?: number;
}

/** Subject on the bus for an event type: `lectern.<type>`. */
export const subjectOf = (type: string, prefix = 'lectern'): string => `${prefix}.${type}`;

export interface BusSubscription {
  /** Durable consumer name, unique across the platform: `<module>.<what it does>`. */
  consumer: string;
  /** Event types it wants. */
  types: string[];
  /** Throwing means "not applied": the bus delivers the event again later. */
  handle(event: EventEnvelope): Promise<void>;
  /**
   * Optional: apply several waiting events at once, in bus order (one transaction instead of one
   * per event). A bus that supports it hands over up to `batchSize` events already queued for this
   * subscription; when it throws, the bus hands the same events to `handle` one by one, so one bad
   * event never holds back the others.
   */
  handleBatch?(events: EventEnvelope[]): Promise<void>;
  /** Most events per `handleBatch` call (default 100). */
  batchSize?: number;
  /**
   * Where a consumer seen for the first time starts (JetStream; the in-process bus keeps no
   * history). `all` (default) replays the retained stream, which backfills a new projection;
   * `new` suits consumers with outside effects (mail) that must not act on old events.
   */
  deliverFrom?: 'all' | 'new';
}

export interface EventBus {
  kind: 'jetstream' | 'in-process';
  /** Resolves once the bus has accepted the event (JetStream: stored in the stream). */
  publish(event: EventEnvelope): Promise<void>;
  subscribe(subscription: BusSubscription): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
  describe(): string;
}
