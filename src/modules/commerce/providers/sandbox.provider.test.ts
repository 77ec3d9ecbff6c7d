import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock, epochSeconds } from '../../../platform/clock.js';
import { hmacSign } from '../../../platform/crypto.js';
import { money } from '../../../platform/money.js';
import { type FakeServer, startFakeServer } from './fake-server.test-support.js';
import type { CreatePaymentInput } from './provider.js';
import { NotificationError, NotificationErrors, ProviderError, ProviderErrors } from './provider.errors.js';
import {
  createSandboxProvider,
  SANDBOX_SIGNATURE_HEADER,
  type SandboxNotification,
  type SandboxProvider,
} from './sandbox.provider.js';

const secret = 'sandbox-secret-for-tests-0123456789abcdef';
const clock = createTestClock(new Date('2026-03-01T10:00:00Z'));

const make = (overrides: { secret?: string; merchant?: string } = {}): SandboxProvider =>
  createSandboxProvider({
    secret: overrides.secret ?? secret,
    merchant: overrides.merchant ?? 'lectern-sandbox',
    payUrl: 'http://localhost:3000/api/v1/commerce/sandbox/pay',
    toleranceSeconds: 300,
    clock,
  });

let n = 0;
const paymentInput = (): CreatePaymentInput => ({
  paymentId: `pay_${++n}`,
  orderId: `ord_${n}`,
  amount: money(1234, 'CNY'),
  subject: 'TypeScript in depth',
  notifyUrl: 'http://127.0.0.1:1/notify',
  expiresAt: new Date(clock().getTime() + 15 * 60_000),
});

const asInput = (n: SandboxNotification) => ({ headers: n.headers, rawBody: Buffer.from(n.body) });

/** Sign arbitrary bytes as the sandbox does, to reach the checks behind the signature. */
const signed = (body: string, s = secret) => {
  const t = epochSeconds(clock());
  return {
    headers: { [SANDBOX_SIGNATURE_HEADER]: `t=${t},v1=${hmacSign(s, `${t}.${body}`)}` },
    rawBody: Buffer.from(body),
  };
};

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotificationError);
  return (err as NotificationError).code;
}

describe('sandbox provider', () => {
  const sandbox = make();

  it('creates a payment with a pay page, and a paid simulation notifies exactly what was paid', async () => {
    const input = paymentInput();
    const created = await sandbox.createPayment(input);
    expect(created.action).toEqual({
      kind: 'sandbox',
      payUrl: `http://localhost:3000/api/v1/commerce/sandbox/pay/${input.paymentId}`,
    });
    const pending = await sandbox.query({ paymentId: input.paymentId });
    expect(pending).toMatchObject({ status: 'pending', providerTxnId: expect.stringMatching(/^sbt_/) });
    // a repeated create (a retried start) is the same payment: its transaction id stays
    await sandbox.createPayment(input);
    expect((await sandbox.query({ paymentId: input.paymentId })).providerTxnId).toBe(pending.providerTxnId);

    const notification = await sandbox.simulate(input.paymentId, 'pay');
    expect(notification.notifyUrl).toBe(input.notifyUrl);
    const verified = await sandbox.verifyNotification(asInput(notification));
    const state = await sandbox.query({ paymentId: input.paymentId });
    expect(state).toEqual({
      status: 'succeeded',
      amount: { amount: 1234, currency: 'CNY' },
      providerTxnId: verified.providerTxnId,
      refunds: [],
    });
    expect(verified).toEqual({
      kind: 'payment.succeeded',
      notificationId: expect.stringMatching(/^sbn_/),
      paymentId: input.paymentId,
      providerTxnId: expect.stringMatching(/^sbt_/),
      amount: { amount: 1234, currency: 'CNY' },
      merchant: 'lectern-sandbox',
      occurredAt: new Date('2026-03-01T10:00:00Z'),
      payer: expect.stringMatching(/^sbu_[0-9a-f]{16}$/),
    });
  });

  it('names the payer given to the pay simulation in the signed notification', async () => {
    const input = paymentInput();
    await sandbox.createPayment(input);
    const notification = await sandbox.simulate(input.paymentId, 'pay', { payer: 'sandbox-buyer-7' });
    expect((await sandbox.verifyNotification(asInput(notification))).payer).toBe('sandbox-buyer-7');
  });

  it('can pay a different amount, so a mismatch with the order can be tested', async () => {
    const input = paymentInput();
    await sandbox.createPayment(input);
    const notification = await sandbox.simulate(input.paymentId, 'pay', { amount: money(1, 'CNY') });
    expect((await sandbox.verifyNotification(asInput(notification))).amount).toEqual({
      amount: 1,
      currency: 'CNY',
    });
  });

  it('closes an unpaid payment, and then refuses to pay it; an expired one cannot be paid', async () => {
    const input = paymentInput();
    await sandbox.createPayment(input);
    const closed = await sandbox.verifyNotification(
      asInput(await sandbox.simulate(input.paymentId, 'close')),
    );
    expect(closed.kind).toBe('payment.closed');
    await expect(sandbox.simulate(input.paymentId, 'pay')).rejects.toBeInstanceOf(ProviderError);
    expect((await sandbox.query({ paymentId: input.paymentId })).status).toBe('closed');

    const late = paymentInput();
    await sandbox.createPayment(late);
    clock.advance(16 * 60);
    await expect(sandbox.simulate(late.paymentId, 'pay')).rejects.toMatchObject({
      providerCode: 'TRADE_CLOSED',
    });
    expect(await sandbox.query({ paymentId: 'nobody' })).toEqual({ status: 'unknown' });
  });

  describe('delivery', () => {
    let server: FakeServer;
    beforeAll(async () => {
      server = await startFakeServer(() => ({ status: 200, body: '{}' }));
    });
    afterAll(() => server.close());

    it('posts the same signed bytes late and more than once, each of which verifies with the same id', async () => {
      const input = { ...paymentInput(), notifyUrl: `${server.url}/api/v1/commerce/notify/sandbox` };
      await sandbox.createPayment(input);
      const notification = await sandbox.simulate(input.paymentId, 'pay');
      const statuses = await sandbox.deliver(notification, { duplicates: 2, delayMs: 20 });
      expect(statuses).toEqual([200, 200, 200]);
      expect(server.requests).toHaveLength(3);
      const ids = new Set<string>();
      for (const request of server.requests) {
        expect(request.url).toBe('/api/v1/commerce/notify/sandbox');
        expect(request.body.toString()).toBe(notification.body);
        const verified = await sandbox.verifyNotification({
          headers: request.headers as Record<string, string>,
          rawBody: request.body,
        });
        ids.add(verified.notificationId);
      }
      expect(ids.size).toBe(1);
    });

    it('reports an unreachable notify URL as status 0 instead of throwing', async () => {
      const input = { ...paymentInput(), notifyUrl: 'http://127.0.0.1:1/notify' };
      await sandbox.createPayment(input);
      expect(await sandbox.deliver(await sandbox.simulate(input.paymentId, 'pay'), {})).toEqual([0]);
    });
  });

  describe('notification checks', () => {
    let good: SandboxNotification;
    beforeAll(async () => {
      const input = paymentInput();
      await sandbox.createPayment(input);
      good = await sandbox.simulate(input.paymentId, 'pay');
    });

    it('rejects every single field tampered with', async () => {
      const body = JSON.parse(good.body) as Record<string, unknown>;
      const changes: Record<string, unknown> = {
        id: 'sbn_other',
        type: 'payment.closed',
        merchant: 'someone-else',
        paymentId: 'pay_other',
        txnId: 'sbt_other',
        amount: 1,
        currency: 'USD',
        occurredAt: '2026-03-01T09:00:00.000Z',
        payer: 'sbu_someone_else',
      };
      expect(Object.keys(changes).sort()).toEqual(Object.keys(body).sort());
      for (const [field, value] of Object.entries(changes)) {
        const tampered = JSON.stringify({ ...body, [field]: value });
        expect(
          await reasonOf(
            sandbox.verifyNotification({ headers: good.headers, rawBody: Buffer.from(tampered) }),
          ),
          field,
        ).toBe(NotificationErrors.badSignature);
      }
      const header = good.headers[SANDBOX_SIGNATURE_HEADER]!;
      const shifted = header.replace(/t=(\d+)/, (_, t: string) => `t=${Number(t) + 1}`);
      expect(
        await reasonOf(
          sandbox.verifyNotification({
            headers: { [SANDBOX_SIGNATURE_HEADER]: shifted },
            rawBody: Buffer.from(good.body),
          }),
        ),
      ).toBe(NotificationErrors.badSignature);
    });

    it('rejects a notification signed with another key, or for another merchant', async () => {
      expect(
        await reasonOf(
          sandbox.verifyNotification(signed(good.body, 'another-secret-0123456789abcdefghijkl')),
        ),
      ).toBe(NotificationErrors.badSignature);
      const other = make({ merchant: 'another-shop' });
      const input = paymentInput();
      await other.createPayment(input);
      expect(
        await reasonOf(sandbox.verifyNotification(asInput(await other.simulate(input.paymentId, 'pay')))),
      ).toBe(NotificationErrors.wrongMerchant);
    });

    it('accepts a timestamp within five minutes and rejects one outside', async () => {
      clock.advance(299);
      await expect(sandbox.verifyNotification(asInput(good))).resolves.toMatchObject({
        kind: 'payment.succeeded',
      });
      clock.advance(2);
      expect(await reasonOf(sandbox.verifyNotification(asInput(good)))).toBe(NotificationErrors.stale);
      clock.advance(-301);
    });

    it('turns missing, empty, truncated and odd bodies and headers into NotificationError', async () => {
      const bodies = [
        '',
        good.body.slice(0, 40),
        'not json',
        '[]',
        'null',
        JSON.stringify({ ...JSON.parse(good.body), amount: 12.34 }),
        JSON.stringify({ ...JSON.parse(good.body), currency: 'ABC' }),
        JSON.stringify({ ...JSON.parse(good.body), amount: -1 }),
        JSON.stringify({ ...JSON.parse(good.body), refundId: 'r1' }),
      ];
      for (const body of bodies) {
        expect(await reasonOf(sandbox.verifyNotification(signed(body))), body).toBe(
          NotificationErrors.malformed,
        );
      }
      expect(
        await reasonOf(sandbox.verifyNotification({ headers: {}, rawBody: Buffer.from(good.body) })),
      ).toBe(NotificationErrors.malformed);
      for (const header of ['', 't=1', 'v1=abc', 't=abc,v1=xyz', `t=1,v1=${'a'.repeat(42)}`]) {
        expect(
          await reasonOf(
            sandbox.verifyNotification({
              headers: { [SANDBOX_SIGNATURE_HEADER]: header },
              rawBody: Buffer.from(good.body),
            }),
          ),
        ).toBe(NotificationErrors.malformed);
      }
    });
  });

  it('refunds a paid payment in parts, the same refund id twice being one refund, and notifies the outcome', async () => {
    const input = paymentInput();
    await sandbox.createPayment(input);
    const refund = {
      paymentId: input.paymentId,
      refundId: 'ref_1',
      amount: money(500, 'CNY'),
      total: input.amount,
    };
    await expect(sandbox.refund(refund)).rejects.toMatchObject({ providerCode: 'TRADE_NOT_PAID' });
    await sandbox.simulate(input.paymentId, 'pay');

    const first = await sandbox.refund(refund);
    expect(first).toEqual({ providerRefundId: expect.stringMatching(/^sbr_/), status: 'pending' });
    expect(await sandbox.refund(refund)).toEqual(first);
    await expect(
      sandbox.refund({ ...refund, refundId: 'ref_2', amount: money(735, 'CNY') }),
    ).rejects.toMatchObject({
      providerCode: 'REFUND_AMOUNT_EXCEEDED',
    });
    await expect(
      sandbox.refund({ ...refund, refundId: 'ref_2', total: money(1000, 'CNY') }),
    ).rejects.toMatchObject({
      providerCode: 'INVALID_TOTAL',
    });

    const done = await sandbox.verifyNotification(
      asInput(await sandbox.simulateRefund(input.paymentId, 'ref_1', 'succeeded')),
    );
    expect(done).toMatchObject({
      kind: 'refund.succeeded',
      refundId: 'ref_1',
      paymentId: input.paymentId,
      amount: { amount: 500, currency: 'CNY' },
    });
    // asked again with the same outcome: sent again; with the other outcome: refused
    expect(
      await sandbox.verifyNotification(
        asInput(await sandbox.simulateRefund(input.paymentId, 'ref_1', 'succeeded')),
      ),
    ).toMatchObject({ kind: 'refund.succeeded', refundId: 'ref_1' });
    await expect(sandbox.simulateRefund(input.paymentId, 'ref_1', 'failed')).rejects.toMatchObject({
      code: ProviderErrors.rejected,
    });
    await expect(
      sandbox.refund({ ...refund, refundId: 'ref_2', amount: money(734, 'CNY') }),
    ).resolves.toMatchObject({ status: 'pending' });
    const failed = await sandbox.verifyNotification(
      asInput(await sandbox.simulateRefund(input.paymentId, 'ref_2', 'failed')),
    );
    expect(failed).toMatchObject({
      kind: 'refund.failed',
      refundId: 'ref_2',
      amount: { amount: 734, currency: 'CNY' },
    });
    // a failed refund gives its amount back
    await expect(
      sandbox.refund({ ...refund, refundId: 'ref_3', amount: money(734, 'CNY') }),
    ).resolves.toMatchObject({ status: 'pending' });
  });

  it('acknowledges with 200 once recorded and a 5xx to have it sent again', () => {
    expect(sandbox.acknowledge('ok').status).toBe(200);
    expect(sandbox.acknowledge('retry').status).toBe(503);
  });
});
