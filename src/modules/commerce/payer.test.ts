import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSealer, generateKey, parseKeyring } from '../../platform/crypto.js';
import { redactedPaths } from '../../platform/observability/logger.js';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';

const KEYS = `k1:${generateKey()}`;
const PAYER = 'buyer-2088102177846601';

let t: CommerceTest;
const logs: string[] = [];
beforeAll(async () => {
  // every line the app writes, debug and up, to prove the payer never reaches the log
  const logger = pino(
    { level: 'debug', redact: { paths: redactedPaths, censor: '[redacted]' } },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  t = await startCommerce({ env: { COMMERCE_DATA_KEYS: KEYS }, app: { platform: { logger } } });
}, 60_000);
afterAll(async () => {
  await t.stop();
});

describe('payer identifiers', () => {
  it('a paid sandbox payment keeps its payer sealed with COMMERCE_DATA_KEYS: no plaintext in the database or the log', async () => {
    const { orderId, paymentId } = await t.orderAndPayment({
      provider: 'sandbox',
      price: { amount: 4200, currency: 'CNY' },
    });
    const paid = await t.kit.expectStatus<{ delivered: number[] }>(
      200,
      'POST',
      `/api/v1/sandbox/pay/${paymentId}`,
      { body: { action: 'pay', payer: PAYER } },
    );
    expect(paid.delivered).toEqual([200]);
    const detail = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, {
      as: t.learner,
    });
    expect(detail.status).toBe('paid');

    const db = t.kit.app.platform.database.db;
    const row = await sql<{ payer_sealed: string | null }>`
      select payer_sealed from commerce.payments where id = ${paymentId}`.execute(db);
    const sealed = row.rows[0]?.payer_sealed;
    expect(sealed).toEqual(expect.any(String));
    if (!sealed) throw new Error('no sealed payer');
    expect(sealed).not.toContain(PAYER);
    const sealer = createSealer(parseKeyring(KEYS));
    expect(sealer.open(sealed, paymentId)).toBe(PAYER);
    // bound to its payment: the same value does not open as another payment's
    expect(() => sealer.open(sealed, orderId)).toThrow();

    // nowhere in commerce's rows as plaintext (payments, notifications, orders, outbox)
    for (const table of ['payments', 'notifications', 'orders', 'order_transitions', 'outbox']) {
      const dump = await sql<{ text: string }>`
        select coalesce(string_agg(row_to_json(x)::text, ''), '') as text
        from ${sql.table(`commerce.${table}`)} x`.execute(db);
      expect(dump.rows[0]?.text, table).not.toContain(PAYER);
    }
    const text = logs.join('');
    expect(text).toContain('payment notification');
    expect(text).not.toContain(PAYER);
  });

  it('refuses a payer that is not a visible ASCII id, paying nothing', async () => {
    const { orderId, paymentId } = await t.orderAndPayment({
      provider: 'sandbox',
      price: { amount: 4200, currency: 'CNY' },
    });
    const res = await t.kit.request('POST', `/api/v1/sandbox/pay/${paymentId}`, {
      body: { action: 'pay', payer: 'two words' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('/body/payer');
    expect(await t.count('payments', sql.raw(`id = '${paymentId}' and status = 'pending'`))).toBe(1);
    const order = await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, {
      as: t.learner,
    });
    expect(order.status).toBe('pending');
  });
});
