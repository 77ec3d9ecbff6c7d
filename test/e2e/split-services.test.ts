import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/app.js';
import { createIdentityModule, INTERNAL_SCOPE } from '../../src/modules/identity/index.js';
import { loadConfig } from '../../src/platform/config.js';
import { createInProcessBus } from '../../src/platform/messaging/in-process-bus.js';
import { isolatedStream, waitFor } from '../../src/platform/messaging/test-support.js';
import { createPlatform } from '../../src/platform/platform.js';
import { freePort } from '../helpers/ports.js';

// identity and catalog as two `lectern serve` processes on one PostgreSQL server: the catalog
// reaches identity's API over HTTP (internal routes, client_credentials token) and its events
// over NATS JetStream.
const databaseUrl = process.env.DATABASE_URL;
const natsUrl = process.env.NATS_URL;
const split = databaseUrl && natsUrl ? describe : describe.skip;

const root = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
const dirs: string[] = [];
let dbName = '';
let dbUrl = '';
let stream = { stream: '', subjectPrefix: '' };
let identityUrl = '';
let catalogUrl = '';
let childEnv: NodeJS.ProcessEnv = {};
const output: string[] = [];

async function start(args: string[], env: NodeJS.ProcessEnv, readyUrl?: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  if (readyUrl) {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`lectern ${args.join(' ')} exited:\n${output.join('')}`);
        return fetch(`${readyUrl}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      },
      `lectern ${args.join(' ')} to be ready`,
      60_000,
    );
  }
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function call(
  base: string,
  method: string,
  url: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${base}${url}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function login(email: string, password: string): Promise<string> {
  const res = await call(identityUrl, 'POST', '/api/v1/auth/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return res.json.accessToken as string;
}

/** The verification code mailed to `to`, from the identity process's mail folder. */
async function mailedCode(mailDir: string, to: string): Promise<string> {
  let code: string | undefined;
  await waitFor(async () => {
    const files = await readdir(mailDir).catch(() => [] as string[]);
    for (const file of files.filter((name) => name.endsWith('.json'))) {
      const mail = JSON.parse(await readFile(path.join(mailDir, file), 'utf8')) as {
        to: string;
        text: string;
      };
      const match = /code into the app: (\S+)/.exec(mail.text);
      if (mail.to === to && match?.[1]) code = match[1];
    }
    return code !== undefined;
  }, `the verification mail to ${to}`);
  return code ?? '';
}

split('identity and catalog in two processes', () => {
  let clientId = '';
  let clientSecret = '';
  let identityDir = '';

  beforeAll(async () => {
    dbName = `lectern_split_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const url = new URL(databaseUrl ?? '');
    url.pathname = `/${dbName}`;
    dbUrl = url.toString();
    stream = isolatedStream();

    // identity's schema, demo accounts and the catalog service's OAuth client, through identity's API
    const setupDir = await mkdtemp(path.join(tmpdir(), 'lectern-split-setup-'));
    dirs.push(setupDir);
    const platform = await createPlatform(
      loadConfig({ DATABASE_URL: dbUrl, LOG_LEVEL: 'silent', DATA_DIR: setupDir }),
      { bus: createInProcessBus() },
    );
    try {
      const identity = createIdentityModule(platform);
      await migrate(platform, [identity]);
      await identity.seed?.();
      const client = await identity.api.registerClient({
        name: 'catalog service',
        grantTypes: ['client_credentials'],
        scopes: [INTERNAL_SCOPE],
        confidential: true,
      });
      clientId = client.clientId;
      clientSecret = client.clientSecret ?? '';
    } finally {
      await platform.close();
    }

    const [identityPort, catalogPort] = [await freePort(), await freePort()];
    identityUrl = `http://127.0.0.1:${identityPort}`;
    catalogUrl = `http://127.0.0.1:${catalogPort}`;
    identityDir = await mkdtemp(path.join(tmpdir(), 'lectern-split-identity-'));
    const catalogDir = await mkdtemp(path.join(tmpdir(), 'lectern-split-catalog-'));
    dirs.push(identityDir, catalogDir);
    // the child processes get their services from here only (no shared Redis prefix with others)
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DATABASE_URL: dbUrl,
      NATS_URL: natsUrl,
      NATS_STREAM: stream.stream,
      NATS_SUBJECT_PREFIX: stream.subjectPrefix,
      HOST: '127.0.0.1',
      SEED_DEMO: 'false',
      LOG_LEVEL: 'warn',
      OUTBOX_POLL_MS: '50',
      // services on different ports share one issuer, as behind one public URL in production
      JWT_ISSUER: 'http://lectern.test',
    };
    await start(
      ['serve', '--modules', 'identity'],
      { ...base, PORT: String(identityPort), DATA_DIR: identityDir },
      identityUrl,
    );
    childEnv = {
      ...base,
      DATA_DIR: catalogDir,
      IDENTITY_URL: identityUrl,
      INTERNAL_CLIENT_ID: clientId,
      INTERNAL_CLIENT_SECRET: clientSecret,
    };
    // no worker: the catalog cannot learn the name from identity's events, only by asking over HTTP
    await start(
      ['serve', '--modules', 'catalog', '--no-worker'],
      { ...childEnv, PORT: String(catalogPort) },
      catalogUrl,
    );
  }, 120_000);

  afterAll(async () => {
    for (const child of children) await stop(child);
    if (dbName) {
      const admin = new pg.Client({ connectionString: databaseUrl });
      await admin.connect();
      await admin.query(`drop database if exists ${dbName} with (force)`);
      await admin.end();
    }
    if (stream.stream && natsUrl) {
      const { connect } = await import('@nats-io/transport-node');
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const nc = await connect({ servers: natsUrl });
      await (await jetstreamManager(nc)).streams.delete(stream.stream).catch(() => false);
      await nc.close();
    }
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('a new instructor approved in identity creates a course in the catalog, named through the HTTP client', async () => {
    const tag = randomBytes(3).toString('hex');
    const email = `grace-${tag}@example.com`;
    const password = 'quartz-meadow-lantern-8842';
    const name = `Grace Hopper ${tag}`;
    expect(
      (
        await call(identityUrl, 'POST', '/api/v1/auth/register', {
          body: { email, password, displayName: name },
        })
      ).status,
    ).toBe(202);
    const token = await mailedCode(path.join(identityDir, 'mail-outbox'), email);
    expect((await call(identityUrl, 'POST', '/api/v1/auth/verify-email', { body: { token } })).status).toBe(
      200,
    );

    const learner = await login(email, password);
    const applied = await call(identityUrl, 'POST', '/api/v1/me/instructor-application', {
      token: learner,
      body: { motivation: 'I wrote the first compiler and want to teach how they work.' },
    });
    expect(applied.status).toBe(201);
    const admin = await login('admin@demo.lectern.dev', 'orchid-lantern-7421');
    const approved = await call(
      identityUrl,
      'POST',
      `/api/v1/admin/instructor-applications/${String(applied.json.id)}/approve`,
      { token: admin, body: {} },
    );
    expect(approved.status).toBe(200);

    const instructor = await login(email, password);
    const created = await call(catalogUrl, 'POST', '/api/v1/courses', {
      token: instructor,
      body: {
        title: 'Compilers from first principles',
        price: { amount: 9900, currency: 'CNY' },
        level: 'beginner',
        language: 'en',
      },
    });
    expect(created.status).toBe(201);
    expect(created.json.instructors).toEqual([{ id: expect.any(String), displayName: name }]);

    // the internal route is for service clients only: the instructor's own token is refused
    const userId = (created.json.instructors as { id: string }[])[0]?.id ?? '';
    const direct = await call(identityUrl, 'GET', `/internal/v1/identity/users/${userId}`, {
      token: instructor,
    });
    expect(direct.status).toBe(403);
    expect(direct.json.code).toBe('identity.internal-only');
    // and it is not in the public API document
    const openapi = await call(identityUrl, 'GET', '/openapi.json');
    expect(Object.keys(openapi.json.paths as object).some((p) => p.startsWith('/internal'))).toBe(false);
  });

  it('a later name change reaches the catalog process as an event over NATS', async () => {
    const tag = randomBytes(3).toString('hex');
    const maple = await login('instructor1@demo.lectern.dev', 'maple-compass-3958');
    const created = await call(catalogUrl, 'POST', '/api/v1/courses', {
      token: maple,
      body: {
        title: 'Maps and compasses',
        price: { amount: 0, currency: 'CNY' },
        level: 'beginner',
        language: 'en',
      },
    });
    expect(created.status).toBe(201);
    const courseId = String(created.json.id);
    const renamed = `Maple ${tag}`;
    expect(
      (await call(identityUrl, 'PATCH', '/api/v1/me', { token: maple, body: { displayName: renamed } }))
        .status,
    ).toBe(200);

    await start(['worker', '--modules', 'catalog'], childEnv);
    await waitFor(
      async () => {
        const course = await call(catalogUrl, 'GET', `/api/v1/courses/${courseId}`, { token: maple });
        return (
          (course.json.instructors as { displayName: string }[] | undefined)?.[0]?.displayName === renamed
        );
      },
      'the new name in the catalog process',
      60_000,
    );
    // a worker process starts inside this test: on a loaded machine that alone takes 10-20 s
  }, 90_000);
});
