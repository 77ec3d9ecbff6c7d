import { sql } from 'kysely';
import type { TestProject } from 'vitest/node';
import { buildAllModulesApp } from './all-modules.js';
import { dropDatabase, freshDatabase } from './database.js';

/**
 * On PostgreSQL, migrate one template database for the whole run (every module of the registry
 * plus the job queue's schema); each test file's fresh database is a copy of it. With PGlite
 * (no DATABASE_URL) every file migrates its own in-memory database as before.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (!process.env.DATABASE_URL) {
    project.provide('testTemplateDatabase', null);
    return undefined;
  }
  const database = await freshDatabase({ template: null, keep: true });
  const name = database.testDatabaseName;
  if (!name) throw new Error('the template database has no name');
  try {
    // building the app runs every migration and installs the job queue; no worker, no relay
    const { t } = await buildAllModulesApp({ platform: { database }, worker: false });
    // the schema stays; the schedules and jobs of every module do not, so that a file built
    // on a few modules only schedules its own
    await sql`delete from pgboss.schedule`.execute(t.platform.database.db);
    await sql`delete from pgboss.job`.execute(t.platform.database.db);
    await t.stop();
  } catch (error) {
    await dropDatabase(name);
    throw error;
  }
  project.provide('testTemplateDatabase', name);
  return () => dropDatabase(name);
}
