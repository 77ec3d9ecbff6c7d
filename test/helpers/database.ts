import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, inject } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db/database.js';
import { migrateAll, type SchemaMigrations } from '../../src/platform/db/migrations.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database every migration of the registry's modules (and the job queue's schema) has run on. */
    testTemplateDatabase: string | null;
  }
}

export interface FreshDatabaseOptions {
  /**
   * Copy this database instead of starting empty: `'migrated'` for the template that
   * test/helpers/global-setup.ts migrated for this run (what apps built by test/helpers/app.ts
   * use, so a file skips replaying every migration), or a database's name. Empty by default,
   * for tests of the migrations and the job queue themselves.
   */
  template?: string | null;
  /** Keep the database when it is closed (the template itself). */
  keep?: boolean;
}

function providedTemplate(): string | null {
  try {
    return inject('testTemplateDatabase') ?? null;
  } catch {
    // outside a test worker (the global set-up itself): nothing was provided
    return null;
  }
}

async function onServer<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A database of its own for one test file: a new PostgreSQL database on the server named by
 * DATABASE_URL (dropped at the end), or an in-memory PGlite when DATABASE_URL is unset.
 */
export async function freshDatabase(
  options: FreshDatabaseOptions = {},
): Promise<Database & { testDatabaseName?: string }> {
  const url = process.env.DATABASE_URL;
  if (!url) return createDatabase({ pgliteDir: 'memory' });
  const name = `lectern_test_${randomBytes(6).toString('hex')}`;
  const template = options.template === 'migrated' ? providedTemplate() : (options.template ?? null);
  // copying a template is a file copy on the server: much faster than replaying the migrations
  await onServer(url, (admin) =>
    admin.query(`create database ${name}${template ? ` template ${template}` : ''}`),
  );
  const testUrl = new URL(url);
  testUrl.pathname = `/${name}`;
  const database = await createDatabase({ url: testUrl.toString(), poolSize: 5 });
  const close = database.close.bind(database);
  database.close = async () => {
    await close();
    if (!options.keep) await dropDatabase(name);
  };
  return Object.assign(database, { testDatabaseName: name });
}

/**
 * The test file's own database with these modules' migrations run: `freshDatabase` made in the
 * file's `beforeAll` (registered by this call, so call it at the top of the file, before hooks
 * that use it) and closed in its `afterAll`. Read `db` (typed with the modules' tables) and
 * `database` inside hooks and tests.
 */
export function databaseForFile<Tables extends object>(
  owners: SchemaMigrations[],
  options: FreshDatabaseOptions = {},
): { readonly database: Database; readonly db: Kysely<Tables> } {
  let opened: { database: Database; db: Kysely<Tables> } | undefined;
  beforeAll(async () => {
    const database = await freshDatabase(options);
    await migrateAll(database.db, owners);
    // what `withTables<Tables>()` gives (it only adds tables to the type), which TypeScript cannot
    // reduce to Kysely<Tables> while Tables is a type parameter
    opened = { database, db: database.db as unknown as Kysely<Tables> };
  });
  afterAll(async () => {
    await opened?.database.close();
  });
  const current = () => {
    if (!opened) throw new Error("the file's database is made in beforeAll: read it in hooks and tests");
    return opened;
  };
  return {
    get database() {
      return current().database;
    },
    get db() {
      return current().db;
    },
  };
}

export async function dropDatabase(name: string): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  await onServer(url, (admin) => admin.query(`drop database if exists ${name} with (force)`));
}

export interface ReplicatedDatabase {
  /** Writes and `db` reads go to the primary; `read` is a second database on the same server. */
  database: Database;
  /**
   * "Replication" of these schemas from the primary to the replica (pg_dump into psql, dropping
   * what the replica had): until it runs, the replica lags behind every write.
   */
  replicate(schemas: string[]): Promise<void>;
  /** Row count of a table on each side, read directly (not through the app). */
  count(table: string): Promise<{ primary: number; replica: number }>;
}

/**
 * A primary and a "replica" for one test file: two fresh databases on the DATABASE_URL server,
 * joined by `createDatabase({ url, readUrl })` as DATABASE_READ_URL joins them in production.
 * Replication is simulated by copying on demand, so a test controls the lag. Both are dropped
 * when the database is closed.
 */
export async function freshReplicatedDatabase(url: string): Promise<ReplicatedDatabase> {
  const names = ['primary', 'replica'].map(
    (role) => `lectern_test_${role}_${randomBytes(5).toString('hex')}`,
  );
  const urlOf = (name: string) => {
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    for (const name of names) await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const [primaryUrl, replicaUrl] = names.map(urlOf) as [string, string];
  const database = await createDatabase({ url: primaryUrl, readUrl: replicaUrl, poolSize: 5 });
  const close = database.close.bind(database);
  database.close = async () => {
    await close();
    const dropper = new pg.Client({ connectionString: url });
    await dropper.connect();
    try {
      for (const name of names) await dropper.query(`drop database if exists ${name} with (force)`);
    } finally {
      await dropper.end();
    }
  };
  const run = promisify(execFile);
  return {
    database,
    async replicate(schemas) {
      const dump = await run(
        'pg_dump',
        ['--clean', '--if-exists', '--no-owner', ...schemas.flatMap((s) => ['--schema', s]), primaryUrl],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      await new Promise<void>((resolve, reject) => {
        const psql = spawn('psql', ['--quiet', '--set', 'ON_ERROR_STOP=1', replicaUrl], {
          stdio: ['pipe', 'ignore', 'pipe'],
        });
        let stderr = '';
        psql.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
        });
        psql.on('error', reject);
        psql.on('exit', (code) => {
          if (code === 0) resolve();
          else reject(new Error(`psql exited with ${String(code)}: ${stderr}`));
        });
        // a schema-only dump leaves out the extensions its indexes use (created in public by
        // the migrations), so the replica gets them first, as a physical replica would have them
        psql.stdin.end(`create extension if not exists pg_trgm;\n${dump.stdout}`);
      });
    },
    async count(table) {
      const counts = await Promise.all(
        [primaryUrl, replicaUrl].map(async (u) => {
          const client = new pg.Client({ connectionString: u });
          await client.connect();
          try {
            const exists = await client.query<{ r: string | null }>('select to_regclass($1) as r', [table]);
            if (!exists.rows[0]?.r) return 0;
            const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`);
            return rows[0]?.n ?? 0;
          } finally {
            await client.end();
          }
        }),
      );
      return { primary: counts[0] ?? 0, replica: counts[1] ?? 0 };
    },
  };
}
