import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import type { DatabaseOptions, EmbeddedChoice } from './database.js';
import {
  type EmbeddedPostgres,
  embeddedPostgresBinaries,
  embeddedPostgresObstacle,
  startEmbeddedPostgres,
} from './embedded-postgres.js';

/**
 * Which embedded database runs, decided and (for PostgreSQL) started apart from the code that
 * queries it: this file loads no query builder nor driver, so the CLI can begin a first start's
 * initdb (seconds of another process) before it loads the rest of the code (seconds of ours).
 */
export type EmbeddedServer =
  | { kind: 'embedded-postgres'; server: EmbeddedPostgres; dir: string }
  /** `fallback`: why `auto` keeps to PGlite here (for the start-up log). */
  | { kind: 'pglite'; dir: string; fallback?: string };

/** The database options the configuration names (createPlatform's and the CLI's early start). */
export function databaseOptions(config: Config): DatabaseOptions {
  return {
    url: config.databaseUrl,
    readUrl: config.databaseReadUrl,
    pgliteDir: path.join(config.dataDir, 'pg'),
    postgresDir: path.join(config.dataDir, 'postgres'),
    embedded: config.embeddedDb,
    poolSize: config.databasePoolSize,
  };
}

/** Decide which embedded database runs (their `url` aside) and start PostgreSQL when it is the one. */
export async function startEmbeddedServer(options: DatabaseOptions): Promise<EmbeddedServer> {
  const pgliteDir = options.pgliteDir ?? './data/pg';
  const choice = options.embedded ?? 'pglite';
  if (choice === 'pglite' || pgliteDir === 'memory') return { kind: 'pglite', dir: pgliteDir };
  const postgresDir = options.postgresDir ?? './data/postgres';
  const fallback = await embeddedPostgresFallback(choice, pgliteDir, postgresDir);
  if (fallback) return { kind: 'pglite', dir: pgliteDir, fallback };
  const binaries = await embeddedPostgresBinaries();
  if (!binaries) throw new Error('no embedded PostgreSQL binaries for this platform');
  return {
    kind: 'embedded-postgres',
    server: await startEmbeddedPostgres({ binaries, dataDir: postgresDir }),
    dir: postgresDir,
  };
}

/** Why `auto` keeps to PGlite here, or undefined to run the embedded PostgreSQL. */
async function embeddedPostgresFallback(
  choice: EmbeddedChoice,
  pgliteDir: string,
  postgresDir: string,
): Promise<string | undefined> {
  // a data folder from before PostgreSQL became the embedded default keeps its data on PGlite
  const pgliteHasData = existsSync(path.join(pgliteDir, 'PG_VERSION'));
  const postgresHasData = existsSync(path.join(postgresDir, 'PG_VERSION'));
  if (choice === 'auto' && pgliteHasData && !postgresHasData) {
    return 'its data folder already holds a PGlite database; EMBEDDED_DB=postgres starts an empty PostgreSQL instead';
  }
  const binaries = await embeddedPostgresBinaries();
  const obstacle = binaries
    ? embeddedPostgresObstacle(binaries, postgresDir)
    : `no PostgreSQL binaries for ${process.platform}-${process.arch} are installed`;
  if (!obstacle) return undefined;
  if (choice === 'postgres') throw new Error(`EMBEDDED_DB=postgres, but ${obstacle}`);
  return `PostgreSQL cannot run here: ${obstacle}`;
}
