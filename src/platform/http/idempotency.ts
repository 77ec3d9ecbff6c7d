import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Generated, type Kysely, type Migration, type Selectable, sql } from 'kysely';
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

declare module 'fastify' {
  interface FastifyRequest {
    idempotency?: { scope: string; key: string };
  }
}

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
  /** Delete expired keys; returns how many. */
  purgeExpired(): Promise<number>;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
const REPLAY_HEADER = 'idempotent-replayed';

/**
 * Stripe-style idempotency keys stored in PostgreSQL so every instance sees them. The first
 * request with a key inserts a `processing` row (the primary key makes concurrent duplicates
 * lose the race); its answer is stored in onSend. A 5xx answer releases the key so the client
 * may retry. The stored answer and the business effect are separate writes: the effect must
 * still be safe to repeat after a crash between the two (commerce guards that with its own
 * unique constraints).
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

  app.addHook('onSend', async (request, reply, payload) => {
    const held = request.idempotency;
    if (!held || reply.getHeader(REPLAY_HEADER)) return payload;
    request.idempotency = undefined;
    if (reply.statusCode >= 500) {
      await db
        .deleteFrom('platform.idempotency_keys')
        .where('scope', '=', held.scope)
        .where('key', '=', held.key)
        .execute();
      return payload;
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
      })
      .where('scope', '=', held.scope)
      .where('key', '=', held.key)
      .execute();
    return payload;
  });

  const replay = (reply: FastifyReply, row: Selectable<IdempotencyTable>) => {
    reply.header(REPLAY_HEADER, 'true');
    reply.status(row.status_code ?? 200);
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
        const scope = request.principal
          ? `${request.principal.kind}:${request.principal.subject}`
          : `ip:${request.ip}`;
        const fingerprint = fingerprintOf(request);
        const deadline = Date.now() + waitMs;
        for (;;) {
          const processing = {
            fingerprint,
            state: 'processing' as const,
            status_code: null,
            content_type: null,
            body: null,
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
            request.idempotency = { scope, key };
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
    async purgeExpired() {
      const result = await db
        .deleteFrom('platform.idempotency_keys')
        .where('expires_at', '<', sql<Date>`now()`)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
