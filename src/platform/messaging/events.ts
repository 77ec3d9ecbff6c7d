import type { Transaction } from 'kysely';
import type { Static, TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { DeliveryContext } from './inbox.js';
import type { EventEnvelope, NewEvent } from './types.js';

/** An event on its way to the outbox, made by `definition.create`; enqueue checks it. */
export interface TypedNewEvent<T extends string = string, D = unknown> extends NewEvent<D> {
  type: T;
  version: number;
  definition: EventDefinition<T>;
}

/** An event as a consumer of this definition receives it: `type` narrowed, `data` typed. */
export interface TypedEnvelope<T extends string = string, D = unknown> extends EventEnvelope<D> {
  type: T;
}

/**
 * One event a module publishes, declared once in `<module>.events.ts` and exported from its
 * `index.ts`: the publisher builds events with `create`, consumers subscribe with the definition
 * and receive `data` already checked against `schema`.
 */
export interface EventDefinition<T extends string = string, S extends TSchema = TSchema> {
  readonly type: T;
  readonly version: number;
  readonly schema: S;
  create(aggregateId: string, data: Static<S>): TypedNewEvent<T, Static<S>>;
  /** Why `data` does not match the schema (`/priceAmount must be integer; …`), or undefined when it does. */
  problems(data: unknown): string | undefined;
}

/** The envelope a consumer of these definitions receives, one member per definition. */
export type EnvelopeOf<D> = D extends EventDefinition<infer T, infer S> ? TypedEnvelope<T, Static<S>> : never;

/** A publisher's bug: the data it tried to enqueue does not match its own event definition. */
export class EventSchemaError extends Error {
  constructor(type: string, version: number, problems: string) {
    super(`event ${type} v${version} does not match its schema: ${problems}`);
    this.name = 'EventSchemaError';
  }
}

export function defineEvent<const T extends string, S extends TSchema>(options: {
  type: T;
  version: number;
  schema: S;
}): EventDefinition<T, S> {
  const { type, version, schema } = options;
  if (!Number.isInteger(version) || version < 1)
    throw new Error(`event ${type}: version must be a positive integer`);
  // compiled on first use: most processes publish or consume only some events
  let validator: ReturnType<typeof Compile<S>> | undefined;
  const definition: EventDefinition<T, S> = {
    type,
    version,
    schema,
    create: (aggregateId, data) => ({ type, version, aggregateId, data, definition }),
    problems(data) {
      validator ??= Compile(schema);
      if (validator.Check(data)) return undefined;
      return validator
        .Errors(data)
        .slice(0, 5)
        .map((e) => `${e.instancePath || '/'} ${e.message}`)
        .join('; ');
    },
  };
  return definition;
}

/** Throws EventSchemaError when a typed event's data does not match its definition. */
export function assertEventData(event: NewEvent): void {
  const definition = (event as Partial<TypedNewEvent>).definition;
  if (!definition) return;
  const problems = definition.problems(event.data);
  if (problems !== undefined) throw new EventSchemaError(definition.type, definition.version, problems);
}

type TypedHandle<Ds extends readonly EventDefinition[]> = (
  event: EnvelopeOf<Ds[number]>,
  trx: Transaction<object>,
  context: DeliveryContext,
) => Promise<void>;

type TypedHandleBatch<Ds extends readonly EventDefinition[]> = (
  events: EnvelopeOf<Ds[number]>[],
  trx: Transaction<object>,
  context: DeliveryContext,
) => Promise<void>;

/**
 * A subscriber that declares the event definitions it consumes and gets their data typed. It
 * handles one event (`handle`), several new events in one transaction in bus order
 * (`handleBatch`, see InboxSubscriber.handleBatch), or both. With `handleBatch` alone, one event
 * is handled as a batch of one.
 */
export type TypedSubscriber<Ds extends readonly EventDefinition[]> = {
  /** Durable consumer name, `<module>.<what it does>`. */
  consumer: string;
  events: Ds;
  /** Most events per `handleBatch`. */
  batchSize?: number;
  /** Where the consumer starts when first seen (BusSubscription.deliverFrom); `all` unless set. */
  deliverFrom?: 'all' | 'new';
} & (
  | { handle: TypedHandle<Ds>; handleBatch?: TypedHandleBatch<Ds> }
  | { handle?: undefined; handleBatch: TypedHandleBatch<Ds> }
);

/**
 * Checks an incoming envelope against the definitions a consumer declared. Undefined when it may
 * be handed over, otherwise the reason it is dead-lettered instead (unknown version, bad data).
 */
export function rejectionOf(
  definitions: readonly EventDefinition[],
  event: EventEnvelope,
): string | undefined {
  const sameType = definitions.filter((d) => d.type === event.type);
  if (sameType.length === 0) return `no definition of ${event.type}`;
  const definition = sameType.find((d) => d.version === event.version);
  if (!definition) {
    return `unknown version ${event.version} of ${event.type} (known: ${sameType.map((d) => d.version).join(', ')})`;
  }
  const problems = definition.problems(event.data);
  return problems === undefined
    ? undefined
    : `data does not match ${event.type} v${event.version}: ${problems}`;
}
