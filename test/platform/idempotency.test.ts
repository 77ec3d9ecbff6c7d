import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../helpers/app.js';
import {
  createLedgerProbeModule,
  type Fault,
  type LedgerProbeModule,
} from '../helpers/ledger-probe-module.js';
import { createProbeModule, type ProbeModule } from '../helpers/probe-module.js';

let t: TestApp;
let probe: ProbeModule;
let ledger: LedgerProbeModule;

beforeAll(async () => {
  t = await buildTestApp((platform) => {
    probe = createProbeModule(platform.database.db);
    ledger = createLedgerProbeModule(platform.database.db);
    return [probe, ledger];
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

const addEntry = (path: 'entries' | 'legacy-entries', key: string, note: string, fault?: Fault) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/ledger/${path}`,
    headers: { 'idempotency-key': key, ...(fault ? { 'x-fault': fault } : {}) },
    payload: { note },
  });

describe('Idempotency-Key with the answer stored in the service transaction', () => {
  it('replays the first answer byte for byte, through the response schema', async () => {
    const first = await addEntry('entries', 'tx-plain', 'plain');
    expect(first.statusCode).toBe(201);
    expect(first.json()).not.toHaveProperty('internal');
    const again = await addEntry('entries', 'tx-plain', 'plain');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.body).toBe(first.body);
    expect(await ledger.effects('plain')).toBe(1);
  });

  it('a crash after commit: the retry replays the committed answer and the effect happened once', async () => {
    const crashed = await addEntry('entries', 'tx-after', 'after', 'after-commit');
    expect(crashed.statusCode).toBe(500);
    expect(await ledger.effects('after')).toBe(1);

    const retry = await addEntry('entries', 'tx-after', 'after');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toMatchObject({ note: 'after' });
    expect(retry.json()).not.toHaveProperty('internal');
    expect(await ledger.effects('after')).toBe(1);

    const again = await addEntry('entries', 'tx-after', 'after');
    expect(again.body).toBe(retry.body);
    expect(await ledger.effects('after')).toBe(1);
  });

  it('a crash before commit: nothing is kept, the retry runs once and is then replayed', async () => {
    const crashed = await addEntry('entries', 'tx-before', 'before', 'before-commit');
    expect(crashed.statusCode).toBe(500);
    expect(await ledger.effects('before')).toBe(0);

    const retry = await addEntry('entries', 'tx-before', 'before');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await ledger.effects('before')).toBe(1);

    const replay = await addEntry('entries', 'tx-before', 'before');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.body).toBe(retry.body);
    expect(await ledger.effects('before')).toBe(1);
  });

  it('the onSend-only path repeats the effect after the same crash (why routes opt in)', async () => {
    const crashed = await addEntry('legacy-entries', 'legacy-after', 'legacy', 'after-commit');
    expect(crashed.statusCode).toBe(500);
    const retry = await addEntry('legacy-entries', 'legacy-after', 'legacy');
    expect(retry.statusCode).toBe(201);
    expect(await ledger.effects('legacy')).toBe(2);
  });

  it('answers 409 for the same key with another body and changes nothing', async () => {
    await addEntry('entries', 'tx-conflict', 'conflict-a');
    const res = await addEntry('entries', 'tx-conflict', 'conflict-b');
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('idempotency.key-reused');
    expect(await ledger.effects('conflict-b')).toBe(0);
  });

  it('runs concurrent duplicates once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => addEntry('entries', 'tx-race', 'race')),
    );
    expect(await ledger.effects('race')).toBe(1);
    expect(new Set(answers.map((a) => a.statusCode))).toEqual(new Set([201]));
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });

  it('without a key the hook is absent and the route still works', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/ledger/entries',
      payload: { note: 'nokey' },
    });
    expect(res.statusCode).toBe(201);
    expect(await ledger.effects('nokey')).toBe(1);
  });
});
