import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import type { Database } from './database.js';
import { namedRows, preparedStatement } from './prepared.js';

type Tables = {
  'scratch.items': { id: string; owner: string; label: string; price: number; note: string | null; at: Date };
};

let database: Database;
let db: Kysely<Tables>;

beforeAll(async () => {
  database = await freshDatabase();
  db = database.db.withTables<Tables>();
  await sql`create schema scratch`.execute(db);
  await sql`create table scratch.items (id uuid primary key, owner text not null, label text not null,
    price integer not null, note text, at timestamptz not null)`.execute(db);
});
afterAll(async () => {
  await database.close();
});

type Item = Tables['scratch.items'];
const COLUMNS = ['id', 'owner', 'label', 'price', 'note', 'at'] as const;

const insertItem = preparedStatement(
  'test.items.insert',
  (db: Kysely<Tables>, item: Omit<Item, 'note'> & { note?: string | null }) =>
    db.insertInto('scratch.items').values(item).returning(COLUMNS),
);
const itemsOf = preparedStatement(
  'test.items.of',
  (db: Kysely<Tables>, a: { owner: string; ids: string[]; minPrice: number }) =>
    db
      .selectFrom('scratch.items')
      .select(COLUMNS)
      .where('owner', '=', a.owner)
      .where('price', '>=', a.minPrice)
      .where(sql<boolean>`id = any(${a.ids}::uuid[])`)
      .orderBy('price'),
);
const cheaperThan = preparedStatement(
  'test.items.cheaper',
  (db: Kysely<Tables>, a: { owner: string; below: number }) =>
    db
      .selectFrom('scratch.items')
      .select('label')
      .where('owner', '=', a.owner)
      .where('price', '<', a.below)
      .where('label', '<>', 'ignored')
      .orderBy('price'),
);

const statementsOn = async (conn: Kysely<Tables>) =>
  (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(conn)).rows.map(
    (r) => r.name,
  );

describe('preparedStatement', () => {
  it('runs each call with its own values through one statement per shape, each named', async () => {
    const owner = randomUUID();
    const at = new Date('2026-12-06T03:00:00.123Z');
    await db.connection().execute(async (conn) => {
      const rows = [];
      for (const [i, label] of ['a', 'b', 'c'].entries()) {
        rows.push(...(await insertItem(conn, { id: randomUUID(), owner, label, price: (i + 1) * 100, at })));
      }
      // a note given and a note left out are two statements (Kysely leaves an undefined column out)
      rows.push(
        ...(await insertItem(conn, { id: randomUUID(), owner, label: 'd', price: 50, note: 'n', at })),
      );
      expect(rows.map((r) => [r.label, r.price, r.note, r.at.toISOString()])).toEqual([
        ['a', 100, null, at.toISOString()],
        ['b', 200, null, at.toISOString()],
        ['c', 300, null, at.toISOString()],
        ['d', 50, 'n', at.toISOString()],
      ]);
      expect(await cheaperThan(conn, { owner, below: 250 })).toEqual([
        { label: 'd' },
        { label: 'a' },
        { label: 'b' },
      ]);
      expect(await cheaperThan(conn, { owner, below: 60 })).toEqual([{ label: 'd' }]);
      expect(await cheaperThan(conn, { owner: randomUUID(), below: 1000 })).toEqual([]);
      expect(await statementsOn(conn)).toEqual([
        'test.items.cheaper',
        'test.items.insert',
        'test.items.insert/2',
      ]);
    });
  });

  it('keeps the rows of a multi-row insert, a statement for each count', async () => {
    const owner = randomUUID();
    const insertMany = preparedStatement(
      'test.items.insert-many',
      (db: Kysely<Tables>, a: { rows: Item[] }) =>
        db.insertInto('scratch.items').values(a.rows).returning('label'),
    );
    const row = (label: string): Item => ({
      id: randomUUID(),
      owner,
      label,
      price: 1,
      note: null,
      at: new Date(),
    });
    await db.connection().execute(async (conn) => {
      expect(await insertMany(conn, { rows: [row('a'), row('b')] })).toEqual([
        { label: 'a' },
        { label: 'b' },
      ]);
      expect(await insertMany(conn, { rows: [row('c'), row('d')] })).toEqual([
        { label: 'c' },
        { label: 'd' },
      ]);
      expect(await insertMany(conn, { rows: [row('e')] })).toEqual([{ label: 'e' }]);
      expect((await statementsOn(conn)).filter((n) => n.startsWith('test.items.insert-many'))).toEqual([
        'test.items.insert-many',
        'test.items.insert-many/2',
      ]);
    });
  });

  it('passes a list as one array parameter', async () => {
    const owner = randomUUID();
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const [i, id] of ids.entries()) {
      await insertItem(db, { id, owner, label: `l${i}`, price: i, at: new Date() });
    }
    const [first, second, third] = ids as [string, string, string];
    const labels = async (a: { ids: string[]; minPrice: number }) =>
      (await itemsOf(db, { owner, ...a })).map((r) => r.label);
    expect(await labels({ ids: [third, first], minPrice: 0 })).toEqual(['l0', 'l2']);
    expect(await labels({ ids: [first, second, third], minPrice: 1 })).toEqual(['l1', 'l2']);
    expect(await labels({ ids: [], minPrice: 0 })).toEqual([]);
  });

  it('refuses, at its first call, a builder that writes a value into the statement instead of passing it', async () => {
    const inText = preparedStatement('test.bad.text', (db: Kysely<Tables>, a: { label: string }) =>
      db.selectFrom('scratch.items').select('id').where('label', '=', `x-${a.label}`),
    );
    await expect(inText(db, { label: 'a' })).rejects.toThrow(/label was used as text or a number/);

    const stringified = preparedStatement('test.bad.json', (db: Kysely<Tables>, a: { ids: string[] }) =>
      db.selectFrom('scratch.items').select('id').where('note', '=', JSON.stringify(a.ids)),
    );
    await expect(stringified(db, { ids: ['a'] })).rejects.toThrow(
      /prepared statement test.bad.json: ids did not become a parameter/,
    );

    const dropped = preparedStatement('test.bad.dropped', (db: Kysely<Tables>, _a: { owner: string }) =>
      db.selectFrom('scratch.items').select('id'),
    );
    await expect(dropped(db, { owner: 'o' })).rejects.toThrow(/owner did not become a parameter/);
  });

  it('refuses an answer of all columns, and keeps answering its named ones after a column is added', async () => {
    const all = preparedStatement('test.bad.all', (db: Kysely<Tables>, a: { owner: string }) =>
      db.selectFrom('scratch.items').selectAll().where('owner', '=', a.owner),
    );
    await expect(all(db, { owner: 'o' })).rejects.toThrow(/name the columns it answers, not \*/);
    const returningAll = preparedStatement(
      'test.bad.returning-all',
      (db: Kysely<Tables>, a: { owner: string }) =>
        db.updateTable('scratch.items').set({ price: 0 }).where('owner', '=', a.owner).returningAll(),
    );
    await expect(returningAll(db, { owner: 'o' })).rejects.toThrow(/not \*/);

    const owner = randomUUID();
    await insertItem(db, { id: randomUUID(), owner, label: 'x', price: 5, at: new Date() });
    await db.connection().execute(async (conn) => {
      const star = () =>
        namedRows(conn, 'test.star', 'select * from scratch.items where owner = $1', [owner]);
      expect(await star()).toHaveLength(1);
      expect(await cheaperThan(conn, { owner, below: 10 })).toEqual([{ label: 'x' }]);
      // a migration while both are prepared on this connection
      await sql`alter table scratch.items add column extra text`.execute(conn);
      await expect(star()).rejects.toThrow(/cached plan must not change result type/);
      expect(await cheaperThan(conn, { owner, below: 10 })).toEqual([{ label: 'x' }]);
      expect(await statementsOn(conn)).toContain('test.items.cheaper');
    });
  });

  it('builds a statement of many shapes as usual past the first few', async () => {
    const owner = randomUUID();
    const update = preparedStatement(
      'test.items.update',
      (db: Kysely<Tables>, a: { id: string; set: Partial<Omit<Item, 'id'>> }) =>
        db
          .updateTable('scratch.items')
          .set(a.set)
          .where('id', '=', a.id)
          .returning(['label', 'price', 'note']),
    );
    const id = randomUUID();
    await insertItem(db, { id, owner, label: 'x', price: 1, at: new Date() });
    const sets: Partial<Omit<Item, 'id'>>[] = [
      { label: 'y' },
      { price: 2 },
      { note: 'n' },
      { label: 'z', price: 3 },
      { note: null },
      { label: 'w', note: 'm' },
    ];
    const seen: { label: string; price: number; note: string | null }[] = [];
    await db.connection().execute(async (conn) => {
      for (const set of sets) seen.push(...(await update(conn, { id, set })));
      // four shapes prepared; the fifth and sixth ran unnamed
      expect((await statementsOn(conn)).filter((n) => n.startsWith('test.items.update'))).toEqual([
        'test.items.update',
        'test.items.update/2',
        'test.items.update/3',
        'test.items.update/4',
      ]);
    });
    expect(seen).toEqual([
      { label: 'y', price: 1, note: null },
      { label: 'y', price: 2, note: null },
      { label: 'y', price: 2, note: 'n' },
      { label: 'z', price: 3, note: 'n' },
      { label: 'z', price: 3, note: null },
      { label: 'w', price: 3, note: 'm' },
    ]);
  });
});
