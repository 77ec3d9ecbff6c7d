import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';
import { createDatabase } from '../../src/platform/db/database.js';
import { embeddedPostgresBinaries, startEmbeddedPostgres } from '../../src/platform/db/embedded-postgres.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// The embedded default: real PostgreSQL from the npm package, as a child process on DATA_DIR.
describe('embedded PostgreSQL', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'lectern-embedded-pg-'));
    // as root the server runs as another user, who must be able to enter the folder
    chmodSync(root, 0o755);
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('makes a cluster in an empty folder, keeps its data across a restart, and stops with close()', async () => {
    const dir = path.join(root, 'a', 'postgres');
    const first = await createDatabase({
      embedded: 'postgres',
      postgresDir: dir,
      pgliteDir: path.join(root, 'a', 'pg'),
    });
    expect(first.kind).toBe('embedded-postgres');
    expect(existsSync(path.join(dir, 'PG_VERSION'))).toBe(true);
    // what the catalog's migrations need from the server: pg_trgm and similarity()
    await sql`create extension if not exists pg_trgm`.execute(first.db);
    await sql`create table kept (id int primary key, title text)`.execute(first.db);
    await sql`insert into kept values (1, 'Lectern')`.execute(first.db);
    const sim = await sql<{ s: number }>`select similarity('lectern', 'lecturn') as s`.execute(first.db);
    expect(sim.rows[0]?.s).toBeGreaterThan(0.3);
    await first.close();
    // no PGlite folder was made beside it
    expect(existsSync(path.join(root, 'a', 'pg'))).toBe(false);

    const again = await createDatabase({
      embedded: 'auto',
      postgresDir: dir,
      pgliteDir: path.join(root, 'a', 'pg'),
    });
    expect(again.kind).toBe('embedded-postgres');
    const rows = await sql<{ title: string }>`select title from kept where id = 1`.execute(again.db);
    expect(rows.rows).toEqual([{ title: 'Lectern' }]);
    await again.close();
  }, 60_000);

  it('takes several connections at once (a pool, unlike PGlite)', async () => {
    const db = await createDatabase({
      embedded: 'postgres',
      postgresDir: path.join(root, 'pool', 'postgres'),
      poolSize: 4,
    });
    // four sessions that each wait for the others: only possible with four real connections
    await sql`create table gate (n int)`.execute(db.db);
    const sessions = [0, 1, 2, 3].map((n) =>
      db.db.transaction().execute(async (trx) => {
        await sql`insert into gate values (${n})`.execute(trx);
        await sql`select pg_sleep(0.2)`.execute(trx);
        const pids = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        return pids.rows[0]?.pid;
      }),
    );
    const pids = await Promise.all(sessions);
    expect(new Set(pids).size).toBe(4);
    await db.close();
  }, 60_000);

  it('stops its server process on stop(), and the process is gone', async () => {
    const binaries = await embeddedPostgresBinaries();
    if (!binaries) throw new Error('the PostgreSQL binaries package for this platform is not installed');
    const server = await startEmbeddedPostgres({ binaries, dataDir: path.join(root, 'b', 'postgres') });
    expect(alive(server.pid)).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
  }, 60_000);

  it('auto keeps a data folder that already holds a PGlite database on PGlite', async () => {
    const pgliteDir = path.join(root, 'c', 'pg');
    const old = await createDatabase({ embedded: 'pglite', pgliteDir });
    await sql`create table from_pglite (id int)`.execute(old.db);
    await old.close();

    const db = await createDatabase({
      embedded: 'auto',
      pgliteDir,
      postgresDir: path.join(root, 'c', 'postgres'),
    });
    expect(db.kind).toBe('pglite');
    expect(db.describe()).toContain('already holds a PGlite database');
    await sql`select * from from_pglite`.execute(db.db);
    await db.close();
    expect(existsSync(path.join(root, 'c', 'postgres'))).toBe(false);
  }, 120_000);

  it.runIf(process.getuid?.() === 0)(
    'as root: auto falls back to PGlite when the server user cannot reach the folder, and postgres refuses',
    async () => {
      const locked = path.join(root, 'locked');
      mkdirSync(locked, { mode: 0o700 });
      chmodSync(locked, 0o700);
      const options = { pgliteDir: path.join(locked, 'pg'), postgresDir: path.join(locked, 'postgres') };
      await expect(createDatabase({ ...options, embedded: 'postgres' })).rejects.toThrow(/cannot reach/);
      const db = await createDatabase({ ...options, embedded: 'auto' });
      expect(db.kind).toBe('pglite');
      expect(db.describe()).toContain('PostgreSQL cannot run here');
      await db.close();
    },
    120_000,
  );

  it('EMBEDDED_DB accepts auto, postgres and pglite, defaults to auto, and names itself when wrong', () => {
    expect(loadConfig({}).embeddedDb).toBe('auto');
    expect(loadConfig({ EMBEDDED_DB: 'pglite' }).embeddedDb).toBe('pglite');
    expect(() => loadConfig({ EMBEDDED_DB: 'sqlite' })).toThrow(ConfigError);
    expect(() => loadConfig({ EMBEDDED_DB: 'sqlite' })).toThrow(/EMBEDDED_DB/);
  });
});
