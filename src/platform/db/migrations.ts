import { type Kysely, type Migration, Migrator, sql } from 'kysely';

export interface SchemaMigrations {
  /** PostgreSQL schema the owner's tables live in (a module name, or `platform`). */
  schema: string;
  /** Migrations by name; applied in name order. */
  migrations: Record<string, Migration>;
}

/**
 * Bring every schema up to date. Each owner keeps its own migration history table inside its
 * own schema, so a module can be split into its own service and database later.
 */
export async function migrateAll(db: Kysely<object>, owners: SchemaMigrations[]): Promise<string[]> {
  const applied: string[] = [];
  for (const owner of owners) {
    await sql`create schema if not exists ${sql.id(owner.schema)}`.execute(db);
    const migrator = new Migrator({
      db,
      migrationTableSchema: owner.schema,
      provider: { getMigrations: () => Promise.resolve(owner.migrations) },
    });
    const { error, results } = await migrator.migrateToLatest();
    for (const r of results ?? []) {
      if (r.status === 'Success') applied.push(`${owner.schema}/${r.migrationName}`);
    }
    if (error) {
      throw new Error(`migration of schema "${owner.schema}" failed`, { cause: error });
    }
  }
  return applied;
}
