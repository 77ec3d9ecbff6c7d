import { sql } from 'kysely';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/platform/db/database.js';
import { enqueue, outboxMigration } from '../../src/platform/messaging/outbox.js';
import type { LecternModule, Platform } from '../../src/platform/module.js';
import { type Kit, startKit } from '../helpers/kit.js';

/**
 * Two tiny modules: `notes` publishes `notes.note.written` when a note is posted; `tally` counts
 * them from the event, so a test can see whether it waited long enough.
 */
function modules(platform: Platform): LecternModule[] {
  const db = platform.database.db;
  const notes: LecternModule = {
    name: 'notes',
    migrations: { '0000-messaging': outboxMigration('notes') },
    routes: (app, { auth }) => {
      app.post(
        '/notes',
        {
          preHandler: auth.require({ roles: ['author'] }),
          schema: { body: Type.Object({ text: Type.String() }) },
        },
        async (request, reply) => {
          const subject = request.principal?.subject ?? '';
          await inTransaction(db, (trx) =>
            enqueue(trx, 'notes', [
              { type: 'notes.note.written', aggregateId: subject, data: { text: request.body.text } },
            ]),
          );
          return reply.status(201).send({ ok: true });
        },
      );
    },
  };
  const tally: LecternModule = {
    name: 'tally',
    migrations: {
      '0000-messaging': outboxMigration('tally'),
      '0001-counts': {
        async up(m) {
          await sql`create table tally.counts (author text primary key, notes integer not null)`.execute(m);
        },
      },
    },
    subscribers: [
      {
        consumer: 'tally.notes',
        types: ['notes.note.written'],
        async handle(event, trx) {
          // slow on purpose: a settle() that did not wait for consumers would see the old count
          await new Promise((resolve) => setTimeout(resolve, 30));
          await sql`insert into tally.counts values (${event.aggregateId}, 1)
            on conflict (author) do update set notes = tally.counts.notes + 1`.execute(trx);
        },
      },
    ],
  };
  return [notes, tally];
}

describe('test kit', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await startKit(modules, { worker: true });
  });
  afterAll(async () => {
    await kit.stop();
  });

  it('gives callers by role, and the guard sees the roles', async () => {
    const author = await kit.caller('author');
    const reader = await kit.caller();
    expect(reader.roles).toEqual(['learner']);
    await kit.expectStatus(201, 'POST', '/api/v1/notes', { as: author, body: { text: 'one' } });
    await kit.expectStatus(403, 'POST', '/api/v1/notes', { as: reader, body: { text: 'two' } });
    await expect(kit.expectStatus(201, 'POST', '/api/v1/notes', { body: { text: 'x' } })).rejects.toThrow(
      /expected 201, got 401/,
    );
  });

  it('reads what requests put in the outbox, and settles until consumers applied it', async () => {
    const author = await kit.caller('author');
    for (const text of ['a', 'b', 'c']) {
      await kit.expectStatus(201, 'POST', '/api/v1/notes', { as: author, body: { text } });
    }
    const events = (await kit.outbox('notes', 'notes.note.written')).filter(
      (e) => e.aggregateId === author.id,
    );
    expect(events.map((e) => e.data)).toEqual([{ text: 'a' }, { text: 'b' }, { text: 'c' }]);

    await kit.settle();
    const row = await sql<{
      notes: number;
    }>`select notes from tally.counts where author = ${author.id}`.execute(kit.app.platform.database.db);
    expect(row.rows[0]?.notes).toBe(3);
  });
});
