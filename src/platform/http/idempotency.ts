import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Generated, type Kysely, type Migration, type Selectable, sql, type Transaction } from 'kysely';
import { AppError } from '../errors.js';
import type { PreHandler } from './auth.js';

interface IdempotencyTable {
  scope: string;
  key: string;
  fingerprint: string;
  state: 'processing' | 'completed';
  status_code: number | null;
  content_type: string | null;
  body: string | null;
  /** `payload`: the bytes onSend saw; `value`: the JSON answer value stored in the service's transaction. */
  answer_kind: Generated<'payload' | 'value'>;
  /** Which execution holds a `processing` row; the in-transaction completion checks it is still ours. */
  holder: string | null;
  created_at: Generated<Date>;
  locked_until: Date;
  expires_at: Date;
}
type Tables = {
  'platform.idempotency_keys': IdempotencyTable;
};

export const idempotencyMigration: Migration = {
  async up(db) {
    await db.schema
      .withSchema('platform')
      .createTable('idempotency_keys')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('content_type', 'text')
      .addColumn('body', 'text')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn('locked_until', 'timestamptz', (c) => c.notNull())
      .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
      .execute();
    await db.schema
      .withSchema('platform')
      .createIndex('idempotency_keys_expires')
      .on('idempotency_keys')
      .column('expires_at')
      .execute();
  },
};

/** Adds what storing the answer inside the business transaction needs. */
export const idempotencyValueMigration: Migration = {
  async up(db) {
    await db.schema
      .withSchema('platform')
      .alterTable('idempotency_keys')
      .addColumn('answer_kind', 'text', (c) => c.notNull().defaultTo('payload'))
      .addColumn('holder', 'text')
      .execute();
  },
};

/** The platform's idempotency migrations, in order. */
export const idempotencyMigrations: Record<string, Migration> = {
  '0001_idempotency': idempotencyMigration,
  '0002_idempotency_value': idempotencyValueMigration,
};

/** The key a request holds while its route runs. */
interface HeldKey {
  scope: string;
  key: string;
  holder: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: HeldKey;
  }
}

/**
 * Stores a route's answer in the caller's own transaction. The service calls it with its `trx`
 * and its result just before commit, so the effect and the stored answer commit together.
 * Generic over the caller's table types: the platform table exists in every database.
 */
export type CompleteInTransaction<T> = <DB>(trx: Transaction<DB>, result: T) => Promise<void>;

export interface IdempotencyOptions {
  /** How long a stored answer is replayed. */
  retentionSeconds?: number;
  /** How long one execution may hold a key before another request may take it over (crashed instance). */
  lockSeconds?: number;
  /** How long a duplicate waits for the first execution to finish before answering 409. */
  waitMs?: number;
}

export interface Idempotency {
  /** Route preHandler (after authentication): honours the `Idempotency-Key` header. */
  guard(options?: { required?: boolean }): PreHandler;
  /**
   * For a route whose service takes the answer into its own transaction: a hook to hand to the
   * service, or undefined when the request carries no Idempotency-Key (call it with `?.`).
   * `status` is the answer's status code; `toWire` maps the service's result to the answer value
   * (it is stored as JSON and replayed through the route's response schema).
   */
  completeInTransaction<T>(
    request: FastifyRequest,
    options?: { status?: number; toWire?: (result: T) => unknown },
  ): CompleteInTransaction<T> | undefined;
  /** Delete expired keys; returns how many. */
  purgeExpired(): Promise<number>;
}

/** The scope of a signed-in caller's keys. */
const callerScope = (principal: { kind: string; subject: string }): string =>
  `${principal.kind}:${principal.subject}`;

/**
 * Delete every answer stored for a user's keys: they are copies of what the routes answered
 * (orders, profiles), and an account's closing erases its personal data at once rather than at
 * the keys' expiry. Takes the caller's transaction, so it commits with the closing.
 */
export async function forgetUserAnswers<DB>(trx: Transaction<DB>, userId: string): Promise<void> {
  // the platform table exists in every database, whatever the caller's own table types
  await (trx as unknown as Kysely<Tables>)
    .deleteFrom('platform.idempotency_keys')
    .where('scope', '=', callerScope({ kind: 'user', subject: userId }))
    .execute();
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const REPLAY_HEADER = 'idempotent-replayed';

/**
 * Stripe-style idempotency keys stored in PostgreSQL so every instance sees them. The first
 * request with a key inserts a `processing` row (the primary key makes concurrent duplicates
 * lose the race). A route that opts in (`completeInTransaction`) has its service store the
 * answer value in the same transaction as the effect, so a crash after commit replays the answer
 * instead of repeating the effect. Other routes, and error answers, are stored in onSend; a 5xx
 * releases a key that is still `processing` so the client may retry.
 */
export function createIdempotency(
  app: FastifyInstance,
  dbAny: Kysely<object>,
  options: IdempotencyOptions = {},
): Idempotency {
  const db = dbAny.withTables<Tables>();
  const retention = options.retentionSeconds ?? 24 * 3600;
  const lockSeconds = options.lockSeconds ?? 60;
  const waitMs = options.waitMs ?? 5000;

  // Synchronous for the requests without a key (nearly all, on every route of the app): an async
  // hook costs each of them a promise and a trip through the microtask queue.
  app.addHook('onSend', (request, reply, payload, done) => {
    const held = request.idempotency;
    if (!held || reply.getHeader(REPLAY_HEADER)) {
      done(null, payload);
      return;
    }
    request.idempotency = undefined;
    storeAnswer(held, reply, payload).then(
      () => {
        done(null, payload);
      },
      (err: unknown) => {
        done(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });

  /** Keep the answer of a request that held a key, or release a key a 5xx left `processing`. */
  const storeAnswer = async (held: HeldKey, reply: FastifyReply, payload: unknown): Promise<void> => {
    // a row already `completed` was stored in the service's transaction: that answer stands
    if (reply.statusCode >= 500) {
      await db
        .deleteFrom('platform.idempotency_keys')
        .where('scope', '=', held.scope)
        .where('key', '=', held.key)
        .where('state', '=', 'processing')
        .execute();
      return;
    }
    const body =
      typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : null;
    const contentType = reply.getHeader('content-type');
    await db
      .updateTable('platform.idempotency_keys')
      .set({
        state: 'completed',
        status_code: reply.statusCode,
        content_type: typeof contentType === 'string' ? contentType : null,
        body,
        answer_kind: 'payload',
      })
      .where('scope', '=', held.scope)
      .where('key', '=', held.key)
      .where('state', '=', 'processing')
      .execute();
  };

  const replay = (reply: FastifyReply, row: Selectable<IdempotencyTable>) => {
    reply.header(REPLAY_HEADER, 'true');
    reply.status(row.status_code ?? 200);
    // a stored value goes back through the route's response schema, like the first answer did
    if (row.answer_kind === 'value') return reply.send(JSON.parse(row.body ?? 'null') as unknown);
    if (row.content_type) reply.type(row.content_type);
    return reply.send(row.body ?? '');
  };

  const fingerprintOf = (request: FastifyRequest) =>
    createHash('sha256')
      .update(`${request.method} ${request.url}\n${JSON.stringify(request.body ?? null)}`)
      .digest('base64url');

  return {
    guard({ required = false } = {}) {
      return async (request, reply) => {
        const header = request.headers['idempotency-key'];
        const key = Array.isArray(header) ? header[0] : header;
        if (key === undefined) {
          if (required) {
            throw AppError.validation(
              'idempotency.key-required',
              'This route needs an Idempotency-Key header.',
              [{ field: '/headers/idempotency-key', message: 'is required' }],
            );
          }
          return;
        }
        if (!KEY_PATTERN.test(key)) {
          throw AppError.validation(
            'idempotency.key-invalid',
            'Idempotency-Key must be 1–255 visible ASCII characters.',
            [{ field: '/headers/idempotency-key', message: 'must be 1–255 visible ASCII characters' }],
          );
        }
        // keys are per caller: one client's key never replays another's answer
        const scope = request.principal ? callerScope(request.principal) : `ip:${request.ip}`;
        const fingerprint = fingerprintOf(request);
        const deadline = Date.now() + waitMs;
        const holder = randomUUID();
        for (;;) {
          const processing = {
            fingerprint,
            state: 'processing' as const,
            status_code: null,
            content_type: null,
            body: null,
            answer_kind: 'payload' as const,
            holder,
            locked_until: sql<Date>`now() + make_interval(secs => ${lockSeconds})`,
            expires_at: sql<Date>`now() + make_interval(secs => ${retention})`,
          };
          const claimed = await db
            .insertInto('platform.idempotency_keys')
            .values({ scope, key, ...processing })
            .onConflict((oc) =>
              // take over a key whose holder died (lock lapsed) or whose answer has expired
              oc
                .columns(['scope', 'key'])
                .doUpdateSet(processing)
                .where((eb) =>
                  eb.or([
                    eb('platform.idempotency_keys.expires_at', '<', sql<Date>`now()`),
                    eb.and([
                      eb('platform.idempotency_keys.state', '=', 'processing'),
                      eb('platform.idempotency_keys.locked_until', '<', sql<Date>`now()`),
                    ]),
                  ]),
                ),
            )
            .returning('key')
            .executeTakeFirst();
          if (claimed) {
            request.idempotency = { scope, key, holder };
            return undefined;
          }
          const row = await db
            .selectFrom('platform.idempotency_keys')
            .selectAll()
            .where('scope', '=', scope)
            .where('key', '=', key)
            .executeTakeFirst();
          if (!row) continue; // released by a failed first attempt: try to claim again
          if (row.fingerprint !== fingerprint) {
            throw AppError.conflict(
              'idempotency.key-reused',
              'This Idempotency-Key was already used with a different request.',
            );
          }
          if (row.state === 'completed') return replay(reply, row);
          if (Date.now() >= deadline) {
            throw AppError.conflict(
              'idempotency.in-progress',
              'A request with this Idempotency-Key is still being processed.',
            );
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
    },
    completeInTransaction<T>(
      request: FastifyRequest,
      options: { status?: number; toWire?: (result: T) => unknown } = {},
    ): CompleteInTransaction<T> | undefined {
      const held = request.idempotency;
      if (!held) return undefined;
      const status = options.status ?? 200;
      return async (trx, result) => {
        const value = options.toWire ? options.toWire(result) : result;
        const stored = await (trx as unknown as Kysely<Tables>)
          .updateTable('platform.idempotency_keys')
          .set({
            state: 'completed',
            status_code: status,
            content_type: 'application/json; charset=utf-8',
            body: JSON.stringify(value ?? null),
            answer_kind: 'value',
          })
          .where('scope', '=', held.scope)
          .where('key', '=', held.key)
          .where('state', '=', 'processing')
          .where('holder', '=', held.holder)
          .executeTakeFirst();
        // another execution took the key over (our lock lapsed): roll our effect back
        if (stored.numUpdatedRows === 0n) {
          throw AppError.conflict(
            'idempotency.in-progress',
            'A request with this Idempotency-Key is being processed elsewhere.',
          );
        }
      };
    },
    async purgeExpired() {
      const result = await db
        .deleteFrom('platform.idempotency_keys')
        .where('expires_at', '<', sql<Date>`now()`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
