import { describe, expect, it } from 'vitest';
import { databaseForFile } from '../../../test/helpers/database.js';
import { money } from '../../platform/money.js';
import { commerceMigrations } from './migrations/index.js';
import type { SandboxPayment } from './providers/sandbox.store.js';
import { tableSandboxStore } from './sandbox.queries.js';
import type { CommerceTables } from './tables.js';

const file = databaseForFile<CommerceTables>([{ schema: 'commerce', migrations: commerceMigrations }]);

const payment = (paymentId: string): SandboxPayment => ({
  paymentId,
  orderId: 'order-1',
  amount: money(9900, 'CNY'),
  notifyUrl: 'http://127.0.0.1:1/notify',
  expiresAt: new Date('2026-03-01T09:00:00.000Z'),
  status: 'pending',
  txnId: 'sbt_1',
  refunds: [],
});

describe('the sandbox store over commerce tables', () => {
  it('keeps every one of 25 concurrent changes of one payment (none overwrites another)', async () => {
    const store = tableSandboxStore(file.db);
    await store.add(payment('pay-concurrent'));
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        store.update('pay-concurrent', (p) => {
          p?.refunds.push({
            refundId: `r${i}`,
            providerRefundId: `pr${i}`,
            amount: money(1, 'CNY'),
            status: 'pending',
          });
          return p?.refunds.length;
        }),
      ),
    );
    const kept = await store.get('pay-concurrent');
    expect(kept?.refunds.map((r) => r.refundId).sort()).toEqual(
      Array.from({ length: 25 }, (_, i) => `r${i}`).sort(),
    );
    // each change saw the ones written before it: every count from 1 to 25 once
    expect([...answers].sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1),
    );
  });

  it('writes nothing when the change throws, and hands an unknown payment to the change as undefined', async () => {
    const store = tableSandboxStore(file.db);
    await store.add(payment('pay-throws'));
    await expect(
      store.update('pay-throws', (p) => {
        if (p) p.status = 'succeeded';
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect((await store.get('pay-throws'))?.status).toBe('pending');
    expect(await store.update('pay-unknown', (p) => p === undefined)).toBe(true);
    expect(await store.get('pay-unknown')).toBeUndefined();
  });

  it('keeps the first record of a payment added twice, dates as dates', async () => {
    const store = tableSandboxStore(file.db);
    await store.add(payment('pay-twice'));
    await store.add({ ...payment('pay-twice'), txnId: 'sbt_2' });
    const kept = await store.get('pay-twice');
    expect(kept?.txnId).toBe('sbt_1');
    expect(kept?.expiresAt).toEqual(new Date('2026-03-01T09:00:00.000Z'));
  });
});
