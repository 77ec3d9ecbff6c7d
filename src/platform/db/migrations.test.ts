import { type Kysely, Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../test/helpers/database.js';
import type { Database } from './database.js';
import { migrateAll, type SchemaMigrations } from './migrations.js';

let database: Database;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  await database.close();
});

/** A migration that creates table `name` in `schema` and counts its runs. */
function creates(schema: string, name: string, runs: string[]) {
  return {
    async up(db: Kysely<unknown>) {
      runs.push(name);
      await sql`create table ${sql.id(schema, name)} (id int)`.execute(db);
    },
  };
}

async function history(schema: string): Promise<string[]> {
  const { rows } = await sql<{
    name: string;
  }>`select name from ${sql.id(schema, 'kysely_migration')} order by name`.execute(database.db);
  return rows.map((r) => r.name);
}

describe('migrateAll', () => {
  it('applies pending migrations in name order, once, and records them in the schema’s own history', async () => {
    const runs: string[] = [];
    const owner: SchemaMigrations = {
      schema: 'mig_a',
      migrations: { '0002_b': creates('mig_a', 't2', runs), '0001_a': creates('mig_a', 't1', runs) },
    };
    expect(await migrateAll(database.db, [owner])).toEqual(['mig_a/0001_a', 'mig_a/0002_b']);
    expect(runs).toEqual(['t1', 't2']);
    expect(await migrateAll(database.db, [owner])).toEqual([]);
    expect(runs).toEqual(['t1', 't2']);
    expect(await history('mig_a')).toEqual(['0001_a', '0002_b']);
  });

  it('carries on from a history Kysely’s Migrator wrote, and refuses one whose migration is missing', async () => {
    const runs: string[] = [];
    const first = { '0001_a': creates('mig_b', 't1', runs) };
    await sql`create schema mig_b`.execute(database.db);
    const migrator = new Migrator({
      db: database.db,
      migrationTableSchema: 'mig_b',
      provider: { getMigrations: () => Promise.resolve(first) },
    });
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const more = { schema: 'mig_b', migrations: { ...first, '0002_b': creates('mig_b', 't2', runs) } };
    expect(await migrateAll(database.db, [more])).toEqual(['mig_b/0002_b']);
    expect(runs).toEqual(['t1', 't2']);
    await expect(
      migrateAll(database.db, [{ schema: 'mig_b', migrations: { '0002_b': more.migrations['0002_b'] } }]),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/0001_a is missing/) } });
  });

  it('rolls back an owner whose migration fails, keeping the owners before it', async () => {
    const runs: string[] = [];
    const good = { schema: 'mig_c', migrations: { '0001_a': creates('mig_c', 't1', runs) } };
    const bad = {
      schema: 'mig_d',
      migrations: {
        '0001_a': creates('mig_d', 't1', runs),
        '0002_b': creates('mig_d', 't1', runs), // the same table again: fails
      },
    };
    await expect(migrateAll(database.db, [good, bad])).rejects.toThrow('migration of schema "mig_d" failed');
    expect(await history('mig_c')).toEqual(['0001_a']);
    const { rows } = await sql<{
      found: string | null;
    }>`select to_regclass('mig_d.t1')::text as found`.execute(database.db);
    expect(rows[0]?.found).toBeNull();
  });

  it('lets instances that start together on an empty database apply each migration once', async () => {
    const runs: string[] = [];
    const owners = ['mig_e', 'mig_f'].map((schema) => ({
      schema,
      migrations: { '0001_a': creates(schema, 't1', runs), '0002_b': creates(schema, 't2', runs) },
    }));
    const results = await Promise.all([migrateAll(database.db, owners), migrateAll(database.db, owners)]);
    expect(results.flat().sort()).toEqual(['mig_e/0001_a', 'mig_e/0002_b', 'mig_f/0001_a', 'mig_f/0002_b']);
    expect(runs).toHaveLength(4);
  });
});
