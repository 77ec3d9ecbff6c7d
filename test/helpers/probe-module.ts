import { type Kysely, sql } from 'kysely';
import { Type } from 'typebox';
import { AppError } from '../../src/platform/errors.js';
import { keyset, PageQuery, pageOf, toPage } from '../../src/platform/http/pagination.js';
import { ProblemRef } from '../../src/platform/http/problem.js';
import type { LecternModule } from '../../src/platform/module.js';
import { outboxMigration } from '../../src/platform/messaging/outbox.js';

type Tables = {
  'probe.items': { id: string; name: string; created_at: Date };
};

export interface ProbeModule extends LecternModule {
  /** How many times the create handler really ran. */
  executions: () => number;
  /** Resolve to let a parked /probe/slow request finish. */
  release: () => void;
  /** Resolves once a /probe/slow request is in the handler. */
  parked: Promise<void>;
}

/**
 * A tiny module that exercises the platform from the outside: a table with keyset pages, an
 * idempotent create, a slow request for shutdown tests, and routes that fail on purpose.
 */
export function createProbeModule(db: Kysely<object>): ProbeModule {
  const tdb = db.withTables<Tables>();
  let executions = 0;
  let release!: () => void;
  let markParked!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const parked = new Promise<void>((resolve) => {
    markParked = resolve;
  });
  const Item = Type.Object({ id: Type.String(), name: Type.String(), createdAt: Type.String() });
  return {
    name: 'probe',
    executions: () => executions,
    release: () => {
      release();
    },
    parked,
    migrations: {
      '0000-messaging': outboxMigration('probe'),
      '0001-items': {
        async up(m) {
          await m.schema
            .withSchema('probe')
            .createTable('items')
            .addColumn('id', 'text', (c) => c.primaryKey())
            .addColumn('name', 'text', (c) => c.notNull())
            .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull().defaultTo(sql`now()`))
            .execute();
        },
      },
    },
    routes: (app, { auth, idempotency }) => {
      app.get(
        '/probe/items',
        { schema: { querystring: PageQuery, response: { 200: pageOf(Item) } } },
        async (request) => {
          const { limit = 20, cursor } = request.query;
          const rows = await keyset(tdb.selectFrom('probe.items').selectAll(), {
            columns: ['created_at', 'id'],
            direction: 'desc',
            limit,
            cursor,
          }).execute();
          return toPage(
            rows,
            limit,
            (r) => [r.created_at.toISOString(), r.id],
            (r) => ({ id: r.id, name: r.name, createdAt: r.created_at.toISOString() }),
          );
        },
      );
      // who the optional guard says the caller is (null: anonymous)
      app.get('/probe/whoami', { preHandler: [auth.optional()] }, (request) => ({
        subject: request.principal?.subject ?? null,
      }));
      app.post(
        '/probe/items',
        {
          preHandler: [auth.optional(), idempotency.guard()],
          schema: {
            body: Type.Object({ id: Type.String({ minLength: 1 }), name: Type.String({ maxLength: 50 }) }),
            response: { 201: Type.Object({ id: Type.String(), execution: Type.Integer() }), 409: ProblemRef },
          },
        },
        async (request, reply) => {
          executions += 1;
          // long enough for concurrent duplicates to overlap with this execution
          await new Promise((resolve) => setTimeout(resolve, 100));
          const exists = await tdb
            .selectFrom('probe.items')
            .select('id')
            .where('id', '=', request.body.id)
            .executeTakeFirst();
          if (exists) {
            throw new AppError('conflict', 'probe.duplicate', 'That id exists.', {
              existingId: request.body.id,
            });
          }
          await tdb
            .insertInto('probe.items')
            .values({ ...request.body, created_at: new Date() })
            .execute();
          return reply.status(201).send({ id: request.body.id, execution: executions });
        },
      );
      app.get('/probe/admin', { preHandler: auth.require({ roles: ['admin'] }) }, () => ({ ok: true }));
      app.get('/probe/boom', () => {
        throw new Error('database password is hunter2');
      });
      app.get('/probe/slow', async () => {
        markParked();
        await released;
        return { finished: true };
      });
    },
  };
}
