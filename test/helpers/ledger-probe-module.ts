import { type Generated, type Kysely, sql } from 'kysely';
import { Type } from 'typebox';
import { inTransaction } from '../../src/platform/db/database.js';
import type { CompleteInTransaction } from '../../src/platform/http/idempotency.js';
import { outboxMigration } from '../../src/platform/messaging/outbox.js';
import type { LecternModule } from '../../src/platform/module.js';

type Tables = {
  'ledger.entries': { id: Generated<string>; note: string; created_at: Date };
};

/** Where a request may be made to crash: inside the transaction after the effect, or after commit. */
export type Fault = 'before-commit' | 'after-commit';

export interface LedgerProbeModule extends LecternModule {
  /** How many entries (business effects) the database holds for this note. */
  effects(note: string): Promise<number>;
}

const Entry = Type.Object({ id: Type.String(), note: Type.String(), createdAt: Type.String() });

/**
 * A module whose effect lives in the database, for idempotency under crashes. `POST
 * /ledger/entries` stores its answer in its own transaction; `POST /ledger/legacy-entries` runs the
 * same service but leaves the answer to onSend. The `x-fault` header injects a crash.
 */
export function createLedgerProbeModule(db: Kysely<object>): LedgerProbeModule {
  const tdb = db.withTables<Tables>();

  async function addEntry(note: string, fault: Fault | undefined, complete?: CompleteInTransaction<object>) {
    const result = await inTransaction(tdb, async (trx) => {
      const row = await trx
        .insertInto('ledger.entries')
        .values({ note, created_at: new Date() })
        .returningAll()
        .executeTakeFirstOrThrow();
      // `internal` is not in the response schema: the answer on the wire never shows it
      const entry = { id: row.id, note: row.note, createdAt: row.created_at.toISOString(), internal: 'x' };
      await complete?.(trx, entry);
      if (fault === 'before-commit') throw new Error('injected crash before commit');
      return entry;
    });
    if (fault === 'after-commit') throw new Error('injected crash after commit');
    return result;
  }

  const faultOf = (header: string | string[] | undefined): Fault | undefined =>
    header === 'before-commit' || header === 'after-commit' ? header : undefined;

  return {
    name: 'ledger',
    async effects(note) {
      const { n } = await tdb
        .selectFrom('ledger.entries')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('note', '=', note)
        .executeTakeFirstOrThrow();
      return Number(n);
    },
    migrations: {
      '0000-messaging': outboxMigration('ledger'),
      '0001-entries': {
        async up(m) {
          await m.schema
            .withSchema('ledger')
            .createTable('entries')
            .addColumn('id', 'bigserial', (c) => c.primaryKey())
            .addColumn('note', 'text', (c) => c.notNull())
            .addColumn('created_at', sql`timestamptz(3)`, (c) => c.notNull())
            .execute();
        },
      },
    },
    routes: (app, { auth, idempotency }) => {
      const schema = {
        body: Type.Object({ note: Type.String({ minLength: 1 }) }),
        response: { 201: Entry },
      };
      app.post(
        '/ledger/entries',
        { preHandler: [auth.optional(), idempotency.guard()], schema },
        async (request, reply) => {
          const complete = idempotency.completeInTransaction<object>(request, { status: 201 });
          const entry = await addEntry(request.body.note, faultOf(request.headers['x-fault']), complete);
          return reply.status(201).send(entry);
        },
      );
      app.post(
        '/ledger/legacy-entries',
        { preHandler: [auth.optional(), idempotency.guard()], schema },
        async (request, reply) => {
          const entry = await addEntry(request.body.note, faultOf(request.headers['x-fault']));
          return reply.status(201).send(entry);
        },
      );
    },
  };
}
