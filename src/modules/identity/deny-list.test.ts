// The deny list's copy on Redis (deny-list.ts): two instances of the identity module on one
// database and one Redis, as behind a load balancer. What must hold: a revocation made on A is
// refused by B within the stated bound (1 s), whether B's subscription works, stalls silently or
// loses its connection; and while it works, B answers from its copy (no Redis read).
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import { freshDatabase } from '../../../test/helpers/database.js';
import { createCache } from '../../platform/cache/cache.js';
import type { Database } from '../../platform/db/database.js';
import { buildIdentity, type Identity } from './identity.module.js';
import { hashPassword } from './passwords.js';

const BOUND_MS = 1000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

interface Instance {
  app: TestApp;
  identity: Identity;
}

describe.skipIf(!process.env.REDIS_URL)('deny list across two instances on Redis', () => {
  const prefix = `lectern-test:${randomUUID()}:`;
  let database: Database;
  let a: Instance;
  let b: Instance;
  let admin: Redis;

  async function start(shared: Database): Promise<Instance> {
    let identity: Identity | undefined;
    const app = await buildTestApp(
      (platform) => {
        identity = buildIdentity(platform, { keyEncryptionSecret: 'test-secret-for-sealing-keys' });
        return [identity.module];
      },
      {
        keys: () => {
          if (!identity) throw new Error('identity not built');
          return identity.api.keys;
        },
        env: { RATE_LIMIT_MAX: '100000' },
        platform: {
          database: shared,
          cache: createCache({ redisUrl: process.env.REDIS_URL, keyPrefix: prefix }),
        },
      },
    );
    if (!identity) throw new Error('identity not built');
    return { app, identity };
  }

  beforeAll(async () => {
    database = await freshDatabase();
    a = await start(database);
    // B shares A's database; only A closes it
    b = await start({ ...database, close: () => Promise.resolve() });
    admin = new Redis(process.env.REDIS_URL ?? '');
  });
  afterAll(async () => {
    await b.app.stop();
    await a.app.stop();
    await admin.quit();
  });

  async function signedIn(): Promise<{ userId: string; accessToken: string; refreshToken: string }> {
    const email = `user-${randomUUID()}@example.com`;
    const password = 'plum-harbour-kettle-91';
    const row = await a.identity.db
      .insertInto('identity.users')
      .values({
        email,
        display_name: 'Deny List',
        password_hash: await hashPassword(password),
        roles: ['learner'],
        email_verified_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const res = await a.app.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ accessToken: string; refreshToken: string }>();
    return { userId: row.id, ...body };
  }

  const tokenInfo = async (on: Instance, token: string) =>
    (
      await on.app.app.inject({
        url: '/api/v1/auth/token-info',
        headers: { authorization: `Bearer ${token}` },
      })
    ).statusCode;

  /** The answer to a request B answered from its copy alone (retried while the copy is not fresh). */
  async function fromCopy(on: Instance, token: string): Promise<number> {
    const denyList = on.identity.tokens.denyList;
    for (let attempt = 0; attempt < 20; attempt++) {
      await until('copy fresh', () => denyList.fresh());
      const before = denyList.sharedReads();
      const status = await tokenInfo(on, token);
      if (denyList.sharedReads() === before) return status;
    }
    throw new Error('no request was answered from the copy');
  }

  /** Logs the session out on A; answers when it was revoked. */
  async function logoutOnA(token: string): Promise<number> {
    const logout = await a.app.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${token}` },
      payload: {},
    });
    expect(logout.statusCode).toBe(204);
    return Date.now();
  }

  /** B's answer once the bound has passed since the revocation. */
  async function onBAfterTheBound(token: string, revokedAt: number): Promise<number> {
    await until('the bound', () => Date.now() - revokedAt >= BOUND_MS, BOUND_MS + 1000);
    return tokenInfo(b, token);
  }

  it('refuses on B within the bound a session revoked on A, answering from its copy', async () => {
    await until(
      'both copies fresh',
      () => a.identity.tokens.denyList.fresh() && b.identity.tokens.denyList.fresh(),
    );
    const user = await signedIn();
    expect(await fromCopy(b, user.accessToken)).toBe(200);

    const revokedAt = await logoutOnA(user.accessToken);
    // the instance that revoked refuses at once
    expect(await tokenInfo(a, user.accessToken)).toBe(401);
    // B: no later than the bound, usually at once
    expect(await onBAfterTheBound(user.accessToken, revokedAt)).toBe(401);
    // and from its own copy: a request that read nothing from Redis refused it (a request that
    // did read Redis, because a heartbeat came back late on a busy machine, proves nothing here)
    expect(await fromCopy(b, user.accessToken)).toBe(401);
  });

  it('refuses on B a user voided on A within the bound while B’s subscription is silently deaf', async () => {
    await until('B fresh', () => b.identity.tokens.denyList.fresh());
    const user = await signedIn();
    expect(await tokenInfo(b, user.accessToken)).toBe(200);
    // B stops hearing the channel without any connection event: no messages, no heartbeats
    const subscriber = b.identity.tokens.denyList.subscriber;
    if (!subscriber) throw new Error('no subscriber on Redis');
    await subscriber.unsubscribe();
    await a.identity.tokens.voidUserTokens(user.userId);
    const revokedAt = Date.now();
    expect(await tokenInfo(a, user.accessToken)).toBe(401);
    expect(await onBAfterTheBound(user.accessToken, revokedAt)).toBe(401);
    // B noticed (no heartbeat came back) and reads Redis until it has a new subscription…
    // …which it makes by itself, refilling its copy from Redis, the mark included
    expect(await fromCopy(b, user.accessToken)).toBe(401);
  });

  it('refuses on B within the bound a session revoked on A while B’s subscription is cut', async () => {
    await until('B fresh', () => b.identity.tokens.denyList.fresh());
    const user = await signedIn();
    const other = await signedIn();
    expect(await tokenInfo(b, user.accessToken)).toBe(200);

    // cut B's subscription connection from the server side, as a Redis restart or network cut would
    const clients = (await admin.client('LIST')) as string;
    const line = clients.split('\n').find((l) => l.includes(` name=${b.identity.tokens.denyList.name} `));
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
    if (!id) throw new Error('B’s subscription not found in CLIENT LIST');
    await admin.client('KILL', 'ID', id);

    const revokedAt = await logoutOnA(user.accessToken);
    expect(await onBAfterTheBound(user.accessToken, revokedAt)).toBe(401);
    // after reconnecting B trusts its copy again, and the copy holds what it missed
    expect(await fromCopy(b, user.accessToken)).toBe(401);
    expect(await fromCopy(b, other.accessToken)).toBe(200);
  });
});
