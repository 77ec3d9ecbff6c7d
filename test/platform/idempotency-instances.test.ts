import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule, type ProbeModule } from '../helpers/probe-module.js';

// Idempotency keys live in PostgreSQL, so a client that retries through the load balancer and
// lands on another instance gets the first answer back, and the effect happens once.
let a: TestApp;
let b: TestApp;
let probeA: ProbeModule;
let probeB: ProbeModule;

beforeAll(async () => {
  a = await buildTestApp((platform) => {
    probeA = createProbeModule(platform.database.db);
    return [probeA];
  });
  const shared = a.platform.database;
  // instance B: its own HTTP server, cache and bus, on A's database
  b = await buildTestApp(
    (platform) => {
      probeB = createProbeModule(platform.database.db);
      return [probeB];
    },
    { worker: false, platform: { database: { ...shared, close: () => Promise.resolve() } } },
  );
});
afterAll(async () => {
  await b.stop();
  await a.stop();
});

const create = (on: TestApp, key: string, body: object) =>
  on.app.inject({
    method: 'POST',
    url: '/api/v1/probe/items',
    headers: { 'idempotency-key': key },
    payload: body,
  });

const rows = async (id: string) =>
  (
    await sql<{ n: number }>`select count(*)::int as n from probe.items where id = ${id}`.execute(
      a.platform.database.db,
    )
  ).rows[0]?.n;

describe('Idempotency-Key across two instances on one database', () => {
  it('a retry that lands on the other instance gets the first answer, and nothing runs again', async () => {
    const key = randomUUID();
    const first = await create(a, key, { id: 'x1', name: 'one' });
    expect(first.statusCode).toBe(201);
    const before = probeB.executions();
    const retry = await create(b, key, { id: 'x1', name: 'one' });
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
    expect(probeB.executions()).toBe(before);
    expect(await rows('x1')).toBe(1);
  });

  it('the other instance answers 409 to the same key with another body, and changes nothing', async () => {
    const key = randomUUID();
    await create(a, key, { id: 'x2', name: 'one' });
    const other = await create(b, key, { id: 'x2-other', name: 'two' });
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('idempotency.key-reused');
    expect(await rows('x2-other')).toBe(0);
  });

  it('duplicates sent to both instances at once run once, and all get the same answer', async () => {
    const key = randomUUID();
    const before = probeA.executions() + probeB.executions();
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => create(i % 2 === 0 ? a : b, key, { id: 'x3', name: 'race' })),
    );
    expect(probeA.executions() + probeB.executions() - before).toBe(1);
    expect(new Set(answers.map((r) => r.statusCode))).toEqual(new Set([201]));
    expect(new Set(answers.map((r) => r.body)).size).toBe(1);
    expect(await rows('x3')).toBe(1);
  });
});
