import { type Kysely, type Migration, sql, type Transaction } from 'kysely';

export interface SchemaMigrations {
  /** PostgreSQL schema the owner's tables live in (a module name, or `platform`). */
  schema: string;
  /** Migrations by name; applied in name order. */
  migrations: Record<string, Migration>;
}

/**
 * Kysely's migration lock on PostgreSQL (the advisory lock id of its PostgresAdapter): taken here
 * too, so this runner and Kysely's Migrator, or two instances starting together, run one at a time.
 */
const KYSELY_MIGRATION_LOCK = '3853314791062309107';

/**
 * Bring every schema up to date. Each owner keeps its own migration history table inside its
 * own schema, so a module can be split into its own service and database later.
 *
 * The tables are Kysely's (`kysely_migration`, `kysely_migration_lock`) and the rules its
 * Migrator's (name order, no applied migration missing or out of place, one transaction per owner),
 * but not its Migrator: that one reads the whole catalog three times per owner to learn whether its
 * two tables exist, most of a first start's migration time; here each owner is one transaction of
 * a few round trips besides its own statements.
 */
export async function migrateAll(db: Kysely<object>, owners: SchemaMigrations[]): Promise<string[]> {
  const applied: string[] = [];
  for (const owner of owners) {
    try {
      const names = await db.transaction().execute((trx) => migrateOwner(trx, owner));
      applied.push(...names.map((name) => `${owner.schema}/${name}`));
    } catch (error) {
      throw new Error(`migration of schema "${owner.schema}" failed`, { cause: error });
    }
  }
  return applied;
}

/** Apply one owner's pending migrations; their names, in order. */
async function migrateOwner(trx: Transaction<object>, owner: SchemaMigrations): Promise<string[]> {
  // released at commit or rollback; the history tables are made under it, so no creation races
  await sql`select pg_advisory_xact_lock(${sql.lit(KYSELY_MIGRATION_LOCK)})`.execute(trx);
  const history = sql.id(owner.schema, 'kysely_migration');
  // one script, one round trip (no parameters, so it goes as a simple query of several statements)
  await sql`create schema if not exists ${sql.id(owner.schema)};
    create table if not exists ${history} (name varchar(255) not null primary key, timestamp varchar(255) not null);
    create table if not exists ${sql.id(owner.schema, 'kysely_migration_lock')} (id varchar(255) not null primary key, is_locked integer not null default 0);
    insert into ${sql.id(owner.schema, 'kysely_migration_lock')} (id, is_locked) values ('migration_lock', 0) on conflict do nothing`.execute(
    trx,
  );
  const { rows } = await sql<{
    name: string;
    timestamp: string;
  }>`select name, timestamp from ${history}`.execute(trx);
  // in the order they ran, as Kysely reads them
  const executed = rows
    .sort((a, b) =>
      a.timestamp === b.timestamp
        ? a.name.localeCompare(b.name)
        : new Date(a.timestamp).getTime() - new Date(b.timestamp).getTime(),
    )
    .map((r) => r.name);
  const names = Object.keys(owner.migrations).sort();
  for (const [i, name] of executed.entries()) {
    if (!names.includes(name)) {
      throw new Error(`corrupted migrations: previously executed migration ${name} is missing`);
    }
    if (names[i] !== name) {
      throw new Error(
        `corrupted migrations: expected previously executed migration ${name} to be at index ${i} but ${names[i]} was found in its place. New migrations must always have a name that comes alphabetically after the last executed migration.`,
      );
    }
  }
  const pending = names.slice(executed.length);
  for (const name of pending) {
    await owner.migrations[name]?.up(trx);
    await sql`insert into ${history} (name, timestamp) values (${name}, ${new Date().toISOString()})`.execute(
      trx,
    );
  }
  return pending;
}
