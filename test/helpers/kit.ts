import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { deliveriesInProgress } from '../../src/platform/messaging/inbox.js';
import { waitFor } from '../../src/platform/messaging/test-support.js';
import type { EventEnvelope } from '../../src/platform/messaging/types.js';
import type { LecternModule, Platform } from '../../src/platform/module.js';
import { buildTestApp, type TestApp, type TestAppOptions } from './app.js';

/** Someone calling the API: a user id and an access token carrying the roles asked for. */
export interface Caller {
  id: string;
  roles: string[];
  token: string;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RequestOptions {
  as?: Pick<Caller, 'token'> | undefined;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The test kit every module's tests start from: an app, callers by role, outbox and event helpers. */
export interface Kit<M extends LecternModule[] = LecternModule[]> {
  app: TestApp;
  modules: M;
  /** A new user with these roles and a valid token (signed by the test keys). */
  caller(...roles: string[]): Promise<Caller>;
  request(method: Method, url: string, options?: RequestOptions): Promise<LightMyRequestResponse>;
  /** Send a request and fail with the answer's body unless it has this status; returns the JSON. */
  expectStatus<T = Record<string, unknown>>(
    status: number,
    method: Method,
    url: string,
    options?: RequestOptions,
  ): Promise<T>;
  /** Events a module's outbox holds, oldest first, optionally only of one type. */
  outbox(schema: string, type?: string): Promise<EventEnvelope[]>;
  /**
   * Publish every outbox row and wait until every subscriber of the running modules has applied
   * (or dead-lettered) every published event of a type it wants: after this, projections are current.
   */
  settle(timeoutMs?: number): Promise<void>;
  /** Run one of the modules' jobs in this process now, as a worker would (attempt 1). */
  runJob: (name: string, data: unknown) => Promise<void>;
  stop(): Promise<void>;
}

interface OutboxRow {
  id: string;
  type: string;
  version: number;
  aggregate_id: string;
  data: unknown;
  occurred_at: Date | string;
}

/**
 * Start these modules on a fresh database with the test token keys (see `buildTestApp`). A module
 * test builds its data through HTTP with `caller` and `request`, as a client would.
 */
export async function startKit<M extends LecternModule[]>(
  build: (platform: Platform) => M,
  options: TestAppOptions = {},
): Promise<Kit<M>> {
  let modules: M | undefined;
  const app = await buildTestApp((platform) => {
    modules = build(platform);
    return modules;
  }, options);
  if (!modules) throw new Error('no modules were built');
  const built = modules;
  const db = app.platform.database.db;

  const request: Kit['request'] = (method, url, opts = {}) =>
    app.app.inject({
      method,
      url,
      headers: {
        ...(opts.as ? { authorization: `Bearer ${opts.as.token}` } : {}),
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { payload: opts.body as object }),
    });

  const outbox: Kit['outbox'] = async (schema, type) => {
    if (!/^[a-z_]+$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
    const rows = await sql<OutboxRow>`
      select id, type, version, aggregate_id, data, occurred_at
      from ${sql.table(`${schema}.outbox`)}
      where ${type === undefined ? sql`true` : sql`type = ${type}`}
      order by seq`.execute(db);
    return rows.rows.map((r) => ({
      id: r.id,
      type: r.type,
      version: r.version,
      aggregateId: r.aggregate_id,
      occurredAt: new Date(r.occurred_at).toISOString(),
      data: r.data,
    }));
  };

  /** Events some running subscriber wants and has not yet recorded in its module's inbox. */
  const pending = async (): Promise<number> => {
    let missing = 0;
    const published = (
      await Promise.all(
        built.map(async (m) => {
          const rows = await sql<{ id: string; type: string; unpublished: boolean }>`
            select id, type, published_at is null as unpublished from ${sql.table(`${m.name}.outbox`)}`
            .execute(db)
            .catch(() => ({ rows: [] }));
          return rows.rows;
        }),
      )
    ).flat();
    missing += published.filter((r) => r.unpublished).length;
    for (const module of built) {
      for (const subscriber of module.subscribers ?? []) {
        const wanted = published.filter((e) => !e.unpublished && subscriber.types.includes(e.type));
        if (wanted.length === 0) continue;
        const applied = await sql<{ event_id: string }>`
          select event_id from ${sql.table(`${module.name}.inbox`)} where consumer = ${subscriber.consumer}`.execute(
          db,
        );
        const seen = new Set(applied.rows.map((r) => r.event_id));
        missing += wanted.filter((e) => !seen.has(e.id)).length;
      }
    }
    return missing;
  };

  return {
    app,
    modules: built,
    async caller(...roles) {
      const id = randomUUID();
      const given = roles.length > 0 ? roles : ['learner'];
      return { id, roles: given, token: await app.tokens.user(id, given) };
    },
    request,
    async expectStatus<T>(status: number, method: Method, url: string, opts?: RequestOptions) {
      const response = await request(method, url, opts);
      if (response.statusCode !== status) {
        throw new Error(`${method} ${url}: expected ${status}, got ${response.statusCode} ${response.body}`);
      }
      return (response.body === '' ? undefined : response.json()) as T;
    },
    outbox,
    async settle(timeoutMs = 15_000) {
      await waitFor(
        async () => {
          await app.relay.runOnce();
          // an inbox row commits inside its delivery, before the delivery's after-commit effects
          // (cache invalidation) have run: settled means those have run too
          return (await pending()) === 0 && deliveriesInProgress() === 0;
        },
        'events to settle',
        timeoutMs,
      );
    },
    runJob: async (name, data) => {
      const job = built.flatMap((m) => m.jobs ?? []).find((j) => j.name === name);
      if (!job) throw new Error(`no job ${name}`);
      await job.handle(data, { id: 'test', attempt: 1, logger: app.platform.logger });
    },
    stop: () => app.stop(),
  };
}
