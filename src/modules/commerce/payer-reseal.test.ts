import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer, generateKey, parseKeyring } from '../../platform/crypto.js';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';
import { createPayerResealer } from './payer-reseal.service.js';
import type { CommerceTables } from './tables.js';

/**
 * Rotation of COMMERCE_DATA_KEYS: the app runs with "b:<B>,a:<A>" (b new and first, a kept to
 * open), payers sealed before the rotation are under a. The reseal job moves them to b.
 */
const A = generateKey();
const B = generateKey();
const KEYS = `b:${B},a:${A}`;
const underA = createSealer(`a:${A}`);
const underB = createSealer(`b:${B}`);
// a key the app's keyring does not hold (dropped too early, or another environment's)
const underZ = createSealer(`z:${generateKey()}`);

let t: CommerceTest;
const lines: { level: number; msg: string; [field: string]: unknown }[] = [];
const raw: string[] = [];
beforeAll(async () => {
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        const text = chunk.toString('utf8');
        raw.push(text);
        lines.push(JSON.parse(text) as (typeof lines)[number]);
        done();
      },
    }),
  );
  t = await startCommerce({ env: { COMMERCE_DATA_KEYS: KEYS }, app: { platform: { logger } } });
}, 60_000);
afterAll(async () => {
  await t.stop();
});

const db = () => t.kit.app.platform.database.db.withTables<CommerceTables>();

async function sealedPayer(paymentId: string): Promise<string | null> {
  const row = await db()
    .selectFrom('commerce.payments')
    .select('payer_sealed')
    .where('id', '=', paymentId)
    .executeTakeFirstOrThrow();
  return row.payer_sealed;
}

/** What the payment's payer would hold had it been sealed before the rotation (or elsewhere). */
async function plant(paymentId: string, value: string | null): Promise<void> {
  await sql`update commerce.payments set payer_sealed = ${value} where id = ${paymentId}`.execute(db());
}

/** A paid sandbox payment of `payer`, as the notification path sealed it. */
async function paidBy(payer: string): Promise<string> {
  const { paymentId } = await t.orderAndPayment({
    provider: 'sandbox',
    price: { amount: 4200, currency: 'CNY' },
  });
  await t.kit.expectStatus(200, 'POST', `/api/v1/sandbox/pay/${paymentId}`, {
    body: { action: 'pay', payer },
  });
  return paymentId;
}

/** Flip one character of the ciphertext part: the value still names key a, but no longer opens. */
function altered(sealed: string): string {
  const parts = sealed.split('.');
  const ct = parts[3] ?? '';
  parts[3] = (ct.startsWith('A') ? 'B' : 'A') + ct.slice(1);
  return parts.join('.');
}

const runsLogged = () =>
  lines.filter((l) => l.msg === 'payer identifiers resealed under the current data key');

describe('commerce.reseal-payers', () => {
  it('reseals payers under the current key, keeps the payer, leaves what does not open, and a second run reseals nothing', async () => {
    const payers = ['buyer-2088102177846601', 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o', 'cus_NffrFeUfNV2Hib'];
    const underOld: string[] = [];
    for (const payer of payers) {
      const id = await paidBy(payer);
      // the notification path seals under b; before the rotation it sealed under a
      expect(await sealedPayer(id)).toMatch(/^s1\.b\./);
      await plant(id, underA.seal(payer, id));
      underOld.push(id);
    }
    const zId = await paidBy('buyer-under-z');
    const zValue = underZ.seal('buyer-under-z', zId);
    await plant(zId, zValue);
    const tamperedId = await paidBy('buyer-tampered');
    const tamperedValue = altered(underA.seal('buyer-tampered', tamperedId));
    await plant(tamperedId, tamperedValue);
    const planted = await Promise.all([...underOld, zId, tamperedId].map(sealedPayer));
    const runsBefore = runsLogged().length;

    await t.runJob('commerce.reseal-payers', {});

    for (const [i, id] of underOld.entries()) {
      const sealed = await sealedPayer(id);
      expect(sealed).toMatch(/^s1\.b\./);
      if (!sealed) throw new Error('no sealed payer');
      // opens under b alone (a can be dropped), as the same payer, still bound to its payment
      expect(underB.open(sealed, id)).toBe(payers[i]);
      expect(() => underB.open(sealed, zId)).toThrow();
    }
    expect(await sealedPayer(zId)).toBe(zValue);
    expect(await sealedPayer(tamperedId)).toBe(tamperedValue);
    const first = runsLogged().slice(runsBefore);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ resealed: 3, unreadable: 2, left: 0 });
    const warned = lines.filter((l) => l.level === 40 && Array.isArray(l.paymentIds));
    expect(warned.flatMap((l) => l.paymentIds as string[]).sort()).toEqual([zId, tamperedId].sort());

    const afterFirst = await Promise.all([...underOld, zId, tamperedId].map(sealedPayer));
    await t.runJob('commerce.reseal-payers', {});
    expect(await Promise.all([...underOld, zId, tamperedId].map(sealedPayer))).toEqual(afterFirst);
    expect(runsLogged().slice(runsBefore)[1]).toMatchObject({ resealed: 0, unreadable: 2, left: 0 });

    // the log holds payment ids, never a payer, a sealed value or a key
    const text = raw.join('');
    for (const secret of [...payers, 'buyer-under-z', 'buyer-tampered', A, B, ...planted, ...afterFirst]) {
      if (secret) expect(text).not.toContain(secret);
    }
  });

  it('goes past values that do not open (keyset by id) and stops at the cap per run', async () => {
    // this test's payments only
    await sql`update commerce.payments set payer_sealed = null`.execute(db());
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const { paymentId } = await t.orderAndPayment({ provider: 'sandbox' });
      ids.push(paymentId);
    }
    ids.sort();
    // the first two by id never open: a run that began each batch from the start would meet only them
    const [z1, z2, ...old] = ids as [string, string, ...string[]];
    await plant(z1, underZ.seal('z1', z1));
    await plant(z2, underZ.seal('z2', z2));
    for (const id of old) await plant(id, underA.seal(`payer-${id}`, id));

    const keyring = parseKeyring(KEYS);
    const resealer = (maxBatches: number) =>
      createPayerResealer({
        db: db(),
        keyring,
        sealer: createSealer(keyring),
        logger: t.kit.app.platform.logger,
        batchSize: 2,
        maxBatches,
      });

    // batches of 2: {z1, z2}, {old0, old1}, then the cap
    // the capped run met z1 and z2, and two readable values wait: left 2
    expect(await resealer(2).resealPayers()).toEqual({ resealed: 2, unreadable: 2, left: 2 });
    expect(await resealer(20).resealPayers()).toEqual({ resealed: 2, unreadable: 2, left: 0 });
    for (const id of old) {
      const sealed = await sealedPayer(id);
      if (!sealed) throw new Error('no sealed payer');
      expect(underB.open(sealed, id)).toBe(`payer-${id}`);
    }
    expect(await resealer(20).resealPayers()).toEqual({ resealed: 0, unreadable: 2, left: 0 });
  });

  it('takes a key id with `_` literally: a value under `kx1` is resealed when `k_1` is current', async () => {
    await sql`update commerce.payments set payer_sealed = null`.execute(db());
    const { paymentId } = await t.orderAndPayment({ provider: 'sandbox' });
    const old = generateKey();
    await plant(paymentId, createSealer(`kx1:${old}`).seal('payer-kx1', paymentId));
    const keyring = parseKeyring(`k_1:${generateKey()},kx1:${old}`);
    const sealer = createSealer(keyring);
    const resealer = createPayerResealer({ db: db(), keyring, sealer, logger: t.kit.app.platform.logger });

    expect(await resealer.resealPayers()).toEqual({ resealed: 1, unreadable: 0, left: 0 });
    const sealed = await sealedPayer(paymentId);
    expect(sealed).toMatch(/^s1\.k_1\./);
    if (!sealed) throw new Error('no sealed payer');
    expect(sealer.open(sealed, paymentId)).toBe('payer-kx1');
  });
});
