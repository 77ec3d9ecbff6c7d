import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import { createProbeModule, type ProbeModule } from '../helpers/probe-module.js';

let t: TestApp;
let probe: ProbeModule;

beforeAll(async () => {
  t = await buildTestApp((platform) => {
    probe = createProbeModule(platform.database.db);
    return [probe];
  });
});
afterAll(async () => {
  await t.stop();
});

const create = (key: string | undefined, body: object, token?: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/probe/items',
    headers: {
      ...(key ? { 'idempotency-key': key } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    payload: body,
  });

describe('Idempotency-Key', () => {
  it('replays the stored answer for the same key and body without running again', async () => {
    const first = await create('key-replay', { id: 'r1', name: 'one' });
    expect(first.statusCode).toBe(201);
    const before = probe.executions();
    const second = await create('key-replay', { id: 'r1', name: 'one' });
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(probe.executions()).toBe(before);
  });

  it('answers 409 for the same key with another body', async () => {
    await create('key-conflict', { id: 'c1', name: 'one' });
    const res = await create('key-conflict', { id: 'c1', name: 'changed' });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('idempotency.key-reused');
  });

  it('runs concurrent duplicates once and gives both the same answer', async () => {
    const before = probe.executions();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => create('key-race', { id: 'race', name: 'x' })),
    );
    expect(probe.executions() - before).toBe(1);
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([201]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });

  it('keeps keys apart per caller', async () => {
    const alice = await t.tokens.user('alice');
    const bob = await t.tokens.user('bob');
    const a = await create('shared-key', { id: 'alice-item', name: 'a' }, alice);
    const b = await create('shared-key', { id: 'bob-item', name: 'b' }, bob);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(b.json().id).toBe('bob-item');
  });

  it('stores a 4xx answer too, so a retry does not change the outcome', async () => {
    await create(undefined, { id: 'exists', name: 'x' });
    const first = await create('key-4xx', { id: 'exists', name: 'x' });
    expect(first.statusCode).toBe(409);
    const before = probe.executions();
    const again = await create('key-4xx', { id: 'exists', name: 'x' });
    expect(again.statusCode).toBe(409);
    expect(probe.executions()).toBe(before);
  });

  it('refuses a malformed key with 400', async () => {
    const res = await create('has space', { id: 'bad-key', name: 'x' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('idempotency.key-invalid');
  });

  it('purges expired keys', async () => {
    expect(await t.kit.idempotency.purgeExpired()).toBeGreaterThanOrEqual(0);
  });
});
