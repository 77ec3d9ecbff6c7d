import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db/database.js';

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

export async function dropDatabase(name: string): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  await onServer(url, (admin) => admin.query(`drop database if exists ${name} with (force)`));
}
