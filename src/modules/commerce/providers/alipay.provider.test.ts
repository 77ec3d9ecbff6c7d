import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../../platform/money.js';
import { createAlipayProvider } from './alipay.provider.js';
import {
  type FakeAlipay,
  formBody,
  rsa2Verify,
  rsaPair,
  signContent,
  signNotification,
  startFakeAlipay,
} from './alipay.test-support.js';
import type { CreatePaymentInput, PaymentProvider } from './provider.js';
import { NotificationError, NotificationErrors, ProviderError, ProviderErrors } from './provider.errors.js';

const appId = '2021000000000001';
const app = rsaPair();
const alipay = rsaPair();
const stranger = rsaPair();

const make = (gateway: string, product: 'page' | 'qr' = 'qr', sellerId?: string): PaymentProvider =>
  createAlipayProvider({
    appId,
    privateKey: app.privatePem,
    alipayPublicKey: alipay.publicPem,
    gateway,
    product,
    ...(sellerId ? { sellerId } : {}),
  });

/** A paid-trade notification as Alipay sends it for a page payment. */
const paidFields = (): Record<string, string> => ({
  notify_time: '2026-03-01 18:00:05',
  notify_type: 'trade_status_sync',
  notify_id: 'ac05099524730693a8b330c5ecf72da9786',
  charset: 'utf-8',
  version: '1.0',
  app_id: appId,
  trade_no: '2026030122001400001234567890',
  out_trade_no: 'pay_0001',
  buyer_id: '2088102122524333',
  seller_id: '2088101106499364',
  trade_status: 'TRADE_SUCCESS',
  total_amount: '12.34',
  receipt_amount: '12.34',
  subject: 'TypeScript 深入浅出',
  gmt_create: '2026-03-01 17:59:40',
  gmt_payment: '2026-03-01 18:00:00',
});

const asNotification = (form: Record<string, string>) => ({ headers: {}, rawBody: formBody(form), form });

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotificationError);
  return (err as NotificationError).code;
}

let n = 0;
const paymentInput = (): CreatePaymentInput => ({
  paymentId: `pay_${Date.now()}_${++n}`,
  orderId: `ord_${n}`,
  amount: money(1234, 'CNY'),
  subject: 'TypeScript 深入浅出',
  notifyUrl: 'https://lectern.example/api/v1/commerce/notify/alipay',
  returnUrl: 'https://lectern.example/orders/1',
  expiresAt: new Date('2026-03-01T10:15:00Z'),
});

describe('alipay notifications', () => {
  const provider = make('http://127.0.0.1:1/gateway.do');

  it('accepts a notification signed with the Alipay key and maps it to minor units and UTC', async () => {
    const verified = await provider.verifyNotification(
      asNotification(signNotification(paidFields(), alipay.privateKey)),
    );
    expect(verified).toEqual({
      kind: 'payment.succeeded',
      notificationId: 'ac05099524730693a8b330c5ecf72da9786',
      paymentId: 'pay_0001',
      providerTxnId: '2026030122001400001234567890',
      amount: { amount: 1234, currency: 'CNY' },
      merchant: appId,
      occurredAt: new Date('2026-03-01T10:00:00Z'),
      payer: '2088102122524333',
    });
    // apps moved to OpenID get buyer_open_id, which names the payer instead
    const openId = await provider.verifyNotification(
      asNotification(
        signNotification(
          { ...paidFields(), buyer_open_id: '074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5' },
          alipay.privateKey,
        ),
      ),
    );
    expect(openId.payer).toBe('074a1CcTG1LelxKe4xQC0zgNdId0nxi95b5lsNpazWYoCo5');
  });

  it('reads the form from the raw body when the route did not parse it', async () => {
    const form = signNotification(paidFields(), alipay.privateKey);
    await expect(
      provider.verifyNotification({ headers: {}, rawBody: formBody(form) }),
    ).resolves.toMatchObject({
      amount: { amount: 1234, currency: 'CNY' },
    });
  });

  it('rejects every single field tampered with, including the signature itself', async () => {
    const form = signNotification(paidFields(), alipay.privateKey);
    for (const field of Object.keys(form)) {
      const value = form[field]!;
      const tampered = {
        ...form,
        [field]: field === 'total_amount' ? '0.01' : `${value.startsWith('a') ? 'b' : 'a'}${value.slice(1)}`,
      };
      const code = await reasonOf(provider.verifyNotification(asNotification(tampered)));
      // sign_type is outside Alipay's signed content, so it is checked by value instead
      expect(code, field).toBe(
        field === 'sign_type' ? NotificationErrors.malformed : NotificationErrors.badSignature,
      );
    }
    // the same signature bytes written as non-canonical base64 are refused too
    const padded = { ...form, sign: `${form.sign!.replace(/=+$/, '')}=1` };
    expect(await reasonOf(provider.verifyNotification(asNotification(padded)))).toBe(
      NotificationErrors.malformed,
    );
    const added = { ...form, refund_fee: '12.34' };
    expect(await reasonOf(provider.verifyNotification(asNotification(added)))).toBe(
      NotificationErrors.badSignature,
    );
  });

  it('rejects a notification signed with another key, or for another app or seller', async () => {
    expect(
      await reasonOf(
        provider.verifyNotification(asNotification(signNotification(paidFields(), stranger.privateKey))),
      ),
    ).toBe(NotificationErrors.badSignature);
    const otherApp = signNotification({ ...paidFields(), app_id: '2021000000000999' }, alipay.privateKey);
    expect(await reasonOf(provider.verifyNotification(asNotification(otherApp)))).toBe(
      NotificationErrors.wrongMerchant,
    );
    const strict = make('http://127.0.0.1:1/gateway.do', 'page', '2088000000000000');
    expect(
      await reasonOf(
        strict.verifyNotification(asNotification(signNotification(paidFields(), alipay.privateKey))),
      ),
    ).toBe(NotificationErrors.wrongMerchant);
  });

  it('maps a closed trade and a refund notification', async () => {
    const closed = signNotification(
      { ...paidFields(), trade_status: 'TRADE_CLOSED', gmt_close: '2026-03-01 18:15:00', gmt_payment: '' },
      alipay.privateKey,
    );
    expect(await provider.verifyNotification(asNotification(closed))).toMatchObject({
      kind: 'payment.closed',
      occurredAt: new Date('2026-03-01T10:15:00Z'),
    });
    const refunded = signNotification(
      {
        ...paidFields(),
        out_biz_no: 'ref_1',
        refund_fee: '5.00',
        gmt_refund: '2026-03-02 09:00:00.123'.slice(0, 19),
      },
      alipay.privateKey,
    );
    expect(await provider.verifyNotification(asNotification(refunded))).toMatchObject({
      kind: 'refund.succeeded',
      refundId: 'ref_1',
      amount: { amount: 500, currency: 'CNY' },
      occurredAt: new Date('2026-03-02T01:00:00Z'),
    });
  });

  it('turns empty, truncated, odd and incomplete notifications into NotificationError', async () => {
    const form = signNotification(paidFields(), alipay.privateKey);
    const raw = formBody(form).toString();
    const cases: Buffer[] = [
      Buffer.from(''),
      Buffer.from(raw.slice(0, raw.length / 2)),
      Buffer.from('{"trade_status":"TRADE_SUCCESS"}'),
      Buffer.from(`${raw}&app_id=${appId}`),
      Buffer.from('%%%'),
    ];
    for (const body of cases) {
      await expect(provider.verifyNotification({ headers: {}, rawBody: body })).rejects.toBeInstanceOf(
        NotificationError,
      );
    }
    for (const broken of [
      { ...paidFields(), total_amount: '12.345' },
      { ...paidFields(), total_amount: '1e3' },
      { ...paidFields(), gmt_payment: '2026-03-01T18:00:00' },
      { ...paidFields(), trade_status: 'WAIT_BUYER_PAY' },
    ]) {
      expect(
        await reasonOf(
          provider.verifyNotification(asNotification(signNotification(broken, alipay.privateKey))),
        ),
      ).toMatch(/malformed|unsupported/);
    }
    const { notify_id: _, ...noId } = paidFields();
    expect(
      await reasonOf(provider.verifyNotification(asNotification(signNotification(noId, alipay.privateKey)))),
    ).toBe(NotificationErrors.malformed);
  });

  it('answers `success` only for a recorded notification', () => {
    expect(provider.acknowledge('ok')).toEqual({ status: 200, contentType: 'text/plain', body: 'success' });
    expect(provider.acknowledge('retry').body).toBe('fail');
  });
});

describe('alipay gateway calls', () => {
  let fake: FakeAlipay;
  let provider: PaymentProvider;
  beforeAll(async () => {
    fake = await startFakeAlipay({ appId, appPublicKey: app.publicKey, alipay });
    provider = make(fake.gatewayUrl);
  });
  afterAll(() => fake.close());

  it('builds a page payment URL signed by Alipay rules with the amount as a decimal and China time', async () => {
    const input = paymentInput();
    const { action } = await make(fake.gatewayUrl, 'page').createPayment(input);
    expect(action.kind).toBe('redirect');
    const url = new URL((action as { url: string }).url);
    expect(`${url.origin}${url.pathname}`).toBe(fake.gatewayUrl);
    const params = Object.fromEntries(url.searchParams);
    expect(rsa2Verify(signContent(params, false), params.sign!, app.publicKey)).toBe(true);
    expect(params).toMatchObject({
      app_id: appId,
      method: 'alipay.trade.page.pay',
      sign_type: 'RSA2',
      notify_url: input.notifyUrl,
      return_url: input.returnUrl,
    });
    expect(JSON.parse(params.biz_content!)).toEqual({
      out_trade_no: input.paymentId,
      total_amount: '12.34',
      subject: input.subject,
      time_expire: '2026-03-01 18:15:00',
      product_code: 'FAST_INSTANT_TRADE_PAY',
    });
  });

  it('creates a QR payment, queries it and refunds it through signed calls', async () => {
    const input = paymentInput();
    const { action } = await provider.createPayment(input);
    expect(action).toEqual({ kind: 'qr', codeUrl: expect.stringMatching(/^https:\/\/qr\.alipay\.com\//) });
    const sent = fake.verified.at(-1)!;
    expect(sent.method).toBe('alipay.trade.precreate');
    expect(sent.notify_url).toBe(input.notifyUrl);
    expect(JSON.parse(sent.biz_content!)).toMatchObject({
      out_trade_no: input.paymentId,
      total_amount: '12.34',
    });

    expect(await provider.query({ paymentId: input.paymentId })).toMatchObject({
      status: 'pending',
      amount: { amount: 1234, currency: 'CNY' },
    });
    const trade = fake.trades.get(input.paymentId)!;
    trade.status = 'TRADE_SUCCESS';
    expect(await provider.query({ paymentId: input.paymentId })).toEqual({
      status: 'succeeded',
      amount: { amount: 1234, currency: 'CNY' },
      providerTxnId: trade.tradeNo,
    });
    expect(await provider.query({ paymentId: 'pay_never' })).toEqual({ status: 'unknown' });

    const refund = {
      paymentId: input.paymentId,
      refundId: 'ref_a',
      amount: money(500, 'CNY'),
      total: input.amount,
      reason: '不想学了',
    };
    expect(await provider.refund(refund)).toEqual({
      providerRefundId: `${trade.tradeNo}:ref_a`,
      status: 'succeeded',
    });
    expect(JSON.parse(fake.verified.at(-1)!.biz_content!)).toEqual({
      out_trade_no: input.paymentId,
      out_request_no: 'ref_a',
      refund_amount: '5.00',
      refund_reason: '不想学了',
    });
    // the same refund id again is the same refund
    await expect(provider.refund(refund)).resolves.toMatchObject({ status: 'succeeded' });
    expect(trade.refunds.size).toBe(1);
    await expect(
      provider.refund({ ...refund, refundId: 'ref_b', amount: money(735, 'CNY') }),
    ).rejects.toMatchObject({
      code: ProviderErrors.rejected,
      providerCode: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL',
    });
  });

  it('asks about a refund with a signed alipay.trade.fastpay.refund.query: REFUND_SUCCESS is succeeded, no refund_status pending, none found unknown', async () => {
    const input = paymentInput();
    await provider.createPayment(input);
    const trade = fake.trades.get(input.paymentId)!;
    trade.status = 'TRADE_SUCCESS';
    await provider.refund({
      paymentId: input.paymentId,
      refundId: 'ref_q',
      amount: money(300, 'CNY'),
      total: input.amount,
    });
    const ref = { paymentId: input.paymentId, refundId: 'ref_q' };
    const found = { amount: money(300, 'CNY'), providerRefundId: `${trade.tradeNo}:ref_q` };
    expect(await provider.queryRefund!(ref)).toEqual({ status: 'succeeded', ...found });
    const sent = fake.verified.at(-1)!;
    expect(sent.method).toBe('alipay.trade.fastpay.refund.query');
    expect(JSON.parse(sent.biz_content!)).toEqual({ out_trade_no: input.paymentId, out_request_no: 'ref_q' });
    trade.unfinished.add('ref_q');
    expect(await provider.queryRefund!(ref)).toEqual({ status: 'pending', ...found });
    expect(await provider.queryRefund!({ ...ref, refundId: 'ref_never' })).toEqual({ status: 'unknown' });
    expect(await provider.queryRefund!({ paymentId: 'pay_never', refundId: 'ref_q' })).toEqual({
      status: 'unknown',
    });
    fake.unsigned(true);
    try {
      await expect(provider.queryRefund!(ref)).rejects.toMatchObject({ code: ProviderErrors.unavailable });
    } finally {
      fake.unsigned(false);
    }
  });
  it('refuses an answer not signed by Alipay, and a gateway that cannot be reached', async () => {
    fake.forgeAnswers(stranger.privateKey);
    try {
      await expect(provider.query({ paymentId: 'pay_any' })).rejects.toMatchObject({
        code: ProviderErrors.unavailable,
      });
    } finally {
      fake.forgeAnswers(undefined);
    }
    await expect(make('http://127.0.0.1:1/gateway.do').query({ paymentId: 'x' })).rejects.toBeInstanceOf(
      ProviderError,
    );
  });

  it('is refused by the gateway when signing with a key Alipay does not know', async () => {
    const wrong = createAlipayProvider({
      appId,
      privateKey: stranger.privatePem,
      alipayPublicKey: alipay.publicPem,
      gateway: fake.gatewayUrl,
      product: 'qr',
    });
    await expect(wrong.query({ paymentId: 'pay_any' })).rejects.toMatchObject({
      providerCode: 'isv.invalid-signature',
    });
  });

  it('refuses amounts in another currency than CNY', async () => {
    await expect(
      provider.createPayment({ ...paymentInput(), amount: money(1234, 'USD') }),
    ).rejects.toMatchObject({
      code: 'commerce.currency-not-supported',
    });
  });
});
