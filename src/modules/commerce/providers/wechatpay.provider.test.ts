import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock, epochSeconds } from '../../../platform/clock.js';
import { money } from '../../../platform/money.js';
import { rsaPair } from './alipay.test-support.js';
import type { CreatePaymentInput, PaymentProvider } from './provider.js';
import { NotificationError, NotificationErrors, ProviderErrors } from './provider.errors.js';
import { createWechatPayProvider } from './wechatpay.provider.js';
import {
  buildNotification,
  encryptResource,
  type FakeWechatPay,
  signedHeaders,
  startFakeWechatPay,
} from './wechatpay.test-support.js';

const mchId = '1900000109';
const appId = 'wxd678efh567hg6787';
const mchSerial = '5157F09EFDC096DE15EBE81A47057A7232F1B8E1';
const platformSerial = 'PUB_KEY_ID_0114232134912410000000000000';
const apiV3Key = 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6';
const merchant = rsaPair();
const platform = rsaPair();
const stranger = rsaPair();
const signer = { platformKey: platform.privateKey, platformSerial, apiV3Key };

const make = (baseUrl: string, clock?: ReturnType<typeof createTestClock>): PaymentProvider =>
  createWechatPayProvider({
    appId,
    mchId,
    mchSerial,
    mchPrivateKey: merchant.privateKey,
    apiV3Key,
    platformSerial,
    platformPublicKey: platform.publicKey,
    baseUrl,
    toleranceSeconds: 300,
    ...(clock ? { clock } : {}),
  });

const transaction = (overrides: Record<string, unknown> = {}) => ({
  appid: appId,
  mchid: mchId,
  out_trade_no: 'pay_0001',
  transaction_id: '4200000000202603011234567890',
  trade_type: 'NATIVE',
  trade_state: 'SUCCESS',
  trade_state_desc: '支付成功',
  bank_type: 'OTHERS',
  attach: 'ord_1',
  success_time: '2026-03-01T18:00:00+08:00',
  payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  amount: { total: 1234, payer_total: 1234, currency: 'CNY', payer_currency: 'CNY' },
  ...overrides,
});

const paid = (resource: unknown = transaction(), extra: { timestamp?: number; id?: string } = {}) =>
  buildNotification(signer, {
    eventType: 'TRANSACTION.SUCCESS',
    originalType: 'transaction',
    resource,
    ...extra,
  });

const asInput = (n: { headers: Record<string, string>; body: string }) => ({
  headers: n.headers,
  rawBody: Buffer.from(n.body),
});

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotificationError);
  return (err as NotificationError).code;
}

describe('wechat pay notifications', () => {
  const clock = createTestClock(new Date());
  const provider = make('http://127.0.0.1:1', clock);

  it('accepts a signed notification, decrypts the resource and maps it', async () => {
    const notification = paid(transaction(), { id: 'EV-2026030118000001' });
    expect(await provider.verifyNotification(asInput(notification))).toEqual({
      kind: 'payment.succeeded',
      notificationId: 'EV-2026030118000001',
      paymentId: 'pay_0001',
      providerTxnId: '4200000000202603011234567890',
      amount: { amount: 1234, currency: 'CNY' },
      merchant: mchId,
      occurredAt: new Date('2026-03-01T10:00:00Z'),
      payer: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o',
    });
  });

  it('maps refund notifications, succeeded and failed', async () => {
    const refund = (status: string) => ({
      mchid: mchId,
      out_trade_no: 'pay_0001',
      transaction_id: '4200000000202603011234567890',
      out_refund_no: 'ref_1',
      refund_id: '50000000382019052709732678859',
      refund_status: status,
      success_time: '2026-03-02T09:00:00+08:00',
      user_received_account: '招商银行信用卡0403',
      amount: { total: 1234, refund: 500, payer_total: 1234, payer_refund: 500 },
    });
    const ok = buildNotification(signer, {
      eventType: 'REFUND.SUCCESS',
      originalType: 'refund',
      resource: refund('SUCCESS'),
    });
    expect(await provider.verifyNotification(asInput(ok))).toMatchObject({
      kind: 'refund.succeeded',
      refundId: 'ref_1',
      amount: { amount: 500, currency: 'CNY' },
      occurredAt: new Date('2026-03-02T01:00:00Z'),
    });
    const bad = buildNotification(signer, {
      eventType: 'REFUND.ABNORMAL',
      originalType: 'refund',
      resource: refund('ABNORMAL'),
    });
    expect(await provider.verifyNotification(asInput(bad))).toMatchObject({
      kind: 'refund.failed',
      refundId: 'ref_1',
    });
  });

  it('rejects every single field of the envelope or a header tampered with', async () => {
    const notification = paid();
    const envelope = JSON.parse(notification.body) as Record<string, unknown> & {
      resource: Record<string, string>;
    };
    const variants: string[] = [];
    for (const field of ['id', 'create_time', 'resource_type', 'event_type', 'summary']) {
      variants.push(JSON.stringify({ ...envelope, [field]: `${String(envelope[field])}x` }));
    }
    for (const field of Object.keys(envelope.resource)) {
      variants.push(
        JSON.stringify({
          ...envelope,
          resource: { ...envelope.resource, [field]: `x${envelope.resource[field]}` },
        }),
      );
    }
    for (const body of variants) {
      expect(
        await reasonOf(
          provider.verifyNotification({ headers: notification.headers, rawBody: Buffer.from(body) }),
        ),
        body,
      ).toBe(NotificationErrors.badSignature);
    }
    for (const header of ['wechatpay-timestamp', 'wechatpay-nonce', 'wechatpay-signature']) {
      const value = notification.headers[header]!;
      const headers = {
        ...notification.headers,
        [header]: `${value.startsWith('1') ? '2' : '1'}${value.slice(1)}`,
      };
      expect(
        await reasonOf(provider.verifyNotification({ headers, rawBody: Buffer.from(notification.body) })),
        header,
      ).toBe(NotificationErrors.badSignature);
    }
  });

  it('rejects a notification signed by another key, under an unknown serial, or for another merchant or app', async () => {
    const forged = buildNotification(
      { ...signer, platformKey: stranger.privateKey },
      {
        eventType: 'TRANSACTION.SUCCESS',
        originalType: 'transaction',
        resource: transaction(),
      },
    );
    expect(await reasonOf(provider.verifyNotification(asInput(forged)))).toBe(
      NotificationErrors.badSignature,
    );
    const otherSerial = buildNotification(
      { ...signer, platformSerial: 'PUB_KEY_ID_OTHER' },
      {
        eventType: 'TRANSACTION.SUCCESS',
        originalType: 'transaction',
        resource: transaction(),
      },
    );
    expect(await reasonOf(provider.verifyNotification(asInput(otherSerial)))).toBe(
      NotificationErrors.unknownKey,
    );
    expect(
      await reasonOf(provider.verifyNotification(asInput(paid(transaction({ mchid: '1900000999' }))))),
    ).toBe(NotificationErrors.wrongMerchant);
    expect(
      await reasonOf(
        provider.verifyNotification(asInput(paid(transaction({ appid: 'wx0000000000000000' })))),
      ),
    ).toBe(NotificationErrors.wrongMerchant);
  });

  it('accepts a timestamp within five minutes and rejects one outside, either way', async () => {
    const now = epochSeconds(clock());
    await expect(
      provider.verifyNotification(asInput(paid(transaction(), { timestamp: now - 299 }))),
    ).resolves.toMatchObject({ kind: 'payment.succeeded' });
    await expect(
      provider.verifyNotification(asInput(paid(transaction(), { timestamp: now + 299 }))),
    ).resolves.toMatchObject({ kind: 'payment.succeeded' });
    expect(
      await reasonOf(provider.verifyNotification(asInput(paid(transaction(), { timestamp: now - 301 })))),
    ).toBe(NotificationErrors.stale);
    expect(
      await reasonOf(provider.verifyNotification(asInput(paid(transaction(), { timestamp: now + 301 })))),
    ).toBe(NotificationErrors.stale);
  });

  it('rejects a resource that does not decrypt: corrupted ciphertext, another APIv3 key, wrong associated data', async () => {
    const notification = paid();
    const envelope = JSON.parse(notification.body) as { resource: Record<string, string> };
    const resealed = (resource: Record<string, string>) => {
      const body = JSON.stringify({ ...envelope, resource });
      // signed again by WeChat Pay's key, so only the decryption can catch it
      return { headers: signedHeaders(signer, body, epochSeconds(clock())), rawBody: Buffer.from(body) };
    };
    const bytes = Buffer.from(envelope.resource.ciphertext!, 'base64');
    bytes[3] = bytes[3]! ^ 0xff;
    const wrongKey = encryptResource(
      'z'.repeat(32),
      JSON.stringify(transaction()),
      envelope.resource.nonce!,
      'transaction',
    );
    for (const resource of [
      { ...envelope.resource, ciphertext: bytes.toString('base64') },
      { ...envelope.resource, ciphertext: wrongKey },
      { ...envelope.resource, associated_data: 'refund' },
      { ...envelope.resource, nonce: 'abcdefabcdef' },
    ]) {
      expect(await reasonOf(provider.verifyNotification(resealed(resource)))).toBe(
        NotificationErrors.badSignature,
      );
    }
  });

  it('turns empty, truncated, non-JSON and odd notifications into NotificationError', async () => {
    const good = paid();
    const signedBody = (body: string) => ({
      headers: signedHeaders(signer, body, epochSeconds(clock())),
      rawBody: Buffer.from(body),
    });
    for (const body of ['', good.body.slice(0, 60), 'not json', '[]', '{"id":"EV-1"}']) {
      expect(await reasonOf(provider.verifyNotification(signedBody(body))), body).toBe(
        NotificationErrors.malformed,
      );
    }
    // truncated with its original signature
    expect(
      await reasonOf(
        provider.verifyNotification({ headers: good.headers, rawBody: Buffer.from(good.body.slice(0, 60)) }),
      ),
    ).toBe(NotificationErrors.badSignature);
    expect(
      await reasonOf(provider.verifyNotification({ headers: {}, rawBody: Buffer.from(good.body) })),
    ).toBe(NotificationErrors.malformed);
    const probe = { ...good.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/abc' };
    expect(
      await reasonOf(provider.verifyNotification({ headers: probe, rawBody: Buffer.from(good.body) })),
    ).toBe(NotificationErrors.badSignature);
    for (const resource of [
      transaction({ amount: { total: 12.34, currency: 'CNY' } }),
      transaction({ amount: { total: 1234, currency: 'ABC' } }),
      { foo: 1 },
    ]) {
      expect(await reasonOf(provider.verifyNotification(asInput(paid(resource))))).toBe(
        NotificationErrors.malformed,
      );
    }
    const unknownEvent = buildNotification(signer, {
      eventType: 'TRANSACTION.CLOSED',
      originalType: 'transaction',
      resource: transaction(),
    });
    expect(await reasonOf(provider.verifyNotification(asInput(unknownEvent)))).toBe(
      NotificationErrors.unsupported,
    );
  });

  it('acknowledges with 204 once recorded and a 5xx with code and message to have it sent again', () => {
    expect(provider.acknowledge('ok').status).toBe(204);
    expect(provider.acknowledge('retry')).toMatchObject({
      status: 500,
      body: '{"code":"FAIL","message":"retry later"}',
    });
  });
});

describe('wechat pay API calls', () => {
  let fake: FakeWechatPay;
  let provider: PaymentProvider;
  beforeAll(async () => {
    fake = await startFakeWechatPay({
      mchId,
      appId,
      mchSerial,
      mchPublicKey: merchant.publicKey,
      platformKey: platform.privateKey,
      platformSerial,
    });
    provider = make(fake.url);
  });
  afterAll(() => fake.close());

  const input = (): CreatePaymentInput => ({
    paymentId: `pay_${Math.random().toString(36).slice(2)}`,
    orderId: 'ord_1',
    amount: money(1234, 'CNY'),
    subject: 'TypeScript 深入浅出',
    notifyUrl: 'https://lectern.example/api/v1/commerce/notify/wechatpay',
    expiresAt: new Date('2026-03-01T10:15:00Z'),
  });

  it('creates a Native payment with a signed request, then queries and refunds it', async () => {
    const payment = input();
    const { action } = await provider.createPayment(payment);
    expect(action).toEqual({
      kind: 'qr',
      codeUrl: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=/),
    });
    expect(fake.verified.at(-1)!.body).toEqual({
      appid: appId,
      mchid: mchId,
      description: payment.subject,
      out_trade_no: payment.paymentId,
      time_expire: '2026-03-01T18:15:00+08:00',
      attach: 'ord_1',
      notify_url: payment.notifyUrl,
      amount: { total: 1234, currency: 'CNY' },
    });

    expect(await provider.query(payment)).toMatchObject({
      status: 'pending',
      amount: { amount: 1234, currency: 'CNY' },
    });
    const trade = fake.trades.get(payment.paymentId)!;
    trade.state = 'SUCCESS';
    expect(await provider.query(payment)).toEqual({
      status: 'succeeded',
      amount: { amount: 1234, currency: 'CNY' },
      providerTxnId: trade.transactionId,
    });
    expect(await provider.query({ paymentId: 'pay_never' })).toEqual({ status: 'unknown' });

    const refund = {
      paymentId: payment.paymentId,
      refundId: 'ref_1',
      amount: money(500, 'CNY'),
      total: payment.amount,
      reason: '重复购买',
    };
    const result = await provider.refund(refund);
    expect(result).toEqual({ providerRefundId: expect.stringMatching(/^503/), status: 'pending' });
    expect(fake.verified.at(-1)!.body).toEqual({
      out_trade_no: payment.paymentId,
      out_refund_no: 'ref_1',
      reason: '重复购买',
      amount: { refund: 500, total: 1234, currency: 'CNY' },
    });
    expect(await provider.refund(refund)).toEqual(result);
    await expect(
      provider.refund({ ...refund, refundId: 'ref_2', amount: money(735, 'CNY') }),
    ).rejects.toMatchObject({
      code: ProviderErrors.rejected,
      providerCode: 'NOT_ENOUGH',
    });
  });

  it('asks about a refund by out_refund_no, signed, and maps SUCCESS, PROCESSING, CLOSED and ABNORMAL', async () => {
    const payment = input();
    await provider.createPayment(payment);
    const trade = fake.trades.get(payment.paymentId)!;
    trade.state = 'SUCCESS';
    const ref = { paymentId: payment.paymentId, refundId: `ref_${payment.paymentId}` };
    const { providerRefundId } = await provider.refund({
      ...ref,
      amount: money(234, 'CNY'),
      total: payment.amount,
    });
    const stored = trade.refunds.get(ref.refundId)!;
    for (const [status, ours] of [
      ['PROCESSING', 'pending'],
      ['SUCCESS', 'succeeded'],
      ['CLOSED', 'failed'],
      ['ABNORMAL', 'failed'],
    ] as const) {
      stored.status = status;
      expect(await provider.queryRefund!(ref)).toEqual({
        status: ours,
        amount: money(234, 'CNY'),
        providerRefundId,
      });
    }
    expect(fake.verified.at(-1)).toMatchObject({
      method: 'GET',
      url: `/v3/refund/domestic/refunds/${ref.refundId}`,
    });
    expect(await provider.queryRefund!({ ...ref, refundId: 'ref_never' })).toEqual({ status: 'unknown' });
    // an answer about a refund of another payment is not taken
    await expect(provider.queryRefund!({ ...ref, paymentId: 'pay_other' })).rejects.toMatchObject({
      code: ProviderErrors.unavailable,
    });
    fake.unsigned(true);
    try {
      await expect(provider.queryRefund!(ref)).rejects.toMatchObject({ code: ProviderErrors.unavailable });
    } finally {
      fake.unsigned(false);
    }
  });
  it('refuses an answer not signed by WeChat Pay', async () => {
    fake.forgeAnswers(stranger.privateKey);
    try {
      await expect(provider.query({ paymentId: 'pay_any' })).rejects.toMatchObject({
        code: ProviderErrors.unavailable,
      });
    } finally {
      fake.forgeAnswers(undefined);
    }
  });

  it('is refused by WeChat Pay when the merchant key is not the registered one', async () => {
    const wrong = createWechatPayProvider({
      appId,
      mchId,
      mchSerial,
      mchPrivateKey: stranger.privateKey,
      apiV3Key,
      platformSerial,
      platformPublicKey: platform.publicKey,
      baseUrl: fake.url,
      toleranceSeconds: 300,
    });
    await expect(wrong.query({ paymentId: 'pay_any' })).rejects.toMatchObject({ providerCode: 'SIGN_ERROR' });
  });

  it('refuses another currency than CNY before calling', async () => {
    const before = fake.requests.length;
    await expect(provider.createPayment({ ...input(), amount: money(1234, 'USD') })).rejects.toMatchObject({
      code: 'commerce.currency-not-supported',
    });
    expect(fake.requests.length).toBe(before);
  });
});
