import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
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

  it('starts after its app was SIGKILLed: the orphaned server is stopped, the data kept', async () => {
    const binaries = await embeddedPostgresBinaries();
    if (!binaries) throw new Error('the PostgreSQL binaries package for this platform is not installed');
    const dataDir = path.join(root, 'killed', 'postgres');
    // an app in a process of its own starts the server, writes a row, and is then SIGKILLed
    const module = path.resolve('src/platform/db/embedded-postgres.ts');
    const app = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import pg from 'pg';
         const { embeddedPostgresBinaries, startEmbeddedPostgres } = await import(${JSON.stringify(module)});
         const server = await startEmbeddedPostgres({ binaries: await embeddedPostgresBinaries(), dataDir: ${JSON.stringify(dataDir)} });
         const client = new pg.Client(server.connection);
         await client.connect();
         await client.query("create table survived (id int); insert into survived values (7)");
         await client.end();
         process.stdout.write(String(server.pid) + "\\n");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const [line] = (await once(app.stdout, 'data')) as [Buffer];
    const orphan = Number(line.toString().trim());
    expect(orphan).toBeGreaterThan(0);
    app.kill('SIGKILL');
    await once(app, 'exit');
    // the kill did not reach the server, which still holds the folder's lock
    expect(alive(orphan)).toBe(true);
    expect(Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])).toBe(orphan);

    const server = await startEmbeddedPostgres({ binaries, dataDir });
    try {
      expect(alive(orphan)).toBe(false);
      expect(server.pid).not.toBe(orphan);
      const client = new pg.Client(server.connection);
      await client.connect();
      const rows = await client.query<{ id: number }>('select id from survived');
      await client.end();
      expect(rows.rows).toEqual([{ id: 7 }]);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('starts over a postmaster.pid whose pid now belongs to another process', async () => {
    const binaries = await embeddedPostgresBinaries();
    if (!binaries) throw new Error('the PostgreSQL binaries package for this platform is not installed');
    const dataDir = path.join(root, 'reused', 'postgres');
    const first = await startEmbeddedPostgres({ binaries, dataDir });
    const lock = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8');
    await first.stop();
    // the lock as a killed server leaves it, its pid since taken by an unrelated running process
    // of the server's own user (PostgreSQL takes a pid it may not signal for a stale one)
    const { uid, gid } = statSync(dataDir);
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore', uid, gid });
    try {
      const lines = lock.split('\n');
      lines[0] = String(stranger.pid);
      writeFileSync(path.join(dataDir, 'postmaster.pid'), lines.join('\n'));
      const server = await startEmbeddedPostgres({ binaries, dataDir });
      expect(alive(server.pid)).toBe(true);
      // the stranger was left alone
      expect(alive(stranger.pid ?? 0)).toBe(true);
      await server.stop();
    } finally {
      stranger.kill();
    }
  }, 60_000);

  it('refuses, and stops nothing, when another running app holds the folder', async () => {
    const binaries = await embeddedPostgresBinaries();
    if (!binaries) throw new Error('the PostgreSQL binaries package for this platform is not installed');
    const dataDir = path.join(root, 'shared', 'postgres');
    const server = await startEmbeddedPostgres({ binaries, dataDir });
    // another app (this one, seen from outside: a different running pid) owns the server
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(dataDir, 'lectern.owner'), `${other.pid}\n`);
      await expect(startEmbeddedPostgres({ binaries, dataDir })).rejects.toThrow(
        /running for another process .*another Lectern/,
      );
      expect(alive(server.pid)).toBe(true);
    } finally {
      other.kill();
      await server.stop();
    }
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
