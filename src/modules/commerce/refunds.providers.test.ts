import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formBody,
  rsaPair,
  signNotification,
  startFakeAlipay,
  type FakeAlipay,
} from './providers/alipay.test-support.js';
import {
  buildNotification,
  startFakeWechatPay,
  type FakeWechatPay,
} from './providers/wechatpay.test-support.js';
import { type RefundsTest, startRefunds } from './refunds.test-support.js';

/**
 * Refunds sent by the send job to Alipay and WeChat Pay v3 as they would be in production: the
 * adapters sign their calls, and fake gateways on 127.0.0.1 check those signatures (and sign their
 * answers) by the providers' documented rules, written out independently of the adapters' SDKs.
 */
const alipayApp = rsaPair();
const alipayKeys = rsaPair();
const wechatMerchant = rsaPair();
const wechatPlatform = rsaPair();
const ALIPAY_APP_ID = '2021000000000001';
const WECHAT = {
  appId: 'wxd678efh567hg6787',
  mchId: '1900000109',
  mchSerial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  apiV3Key: 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6',
  platformSerial: 'PUB_KEY_ID_0114232134912410000000000000',
};

let t: RefundsTest;
let alipay: FakeAlipay;
let wechat: FakeWechatPay;
beforeAll(async () => {
  alipay = await startFakeAlipay({
    appId: ALIPAY_APP_ID,
    appPublicKey: alipayApp.publicKey,
    alipay: alipayKeys,
  });
  wechat = await startFakeWechatPay({
    mchId: WECHAT.mchId,
    appId: WECHAT.appId,
    mchSerial: WECHAT.mchSerial,
    mchPublicKey: wechatMerchant.publicKey,
    platformKey: wechatPlatform.privateKey,
    platformSerial: WECHAT.platformSerial,
  });
  t = await startRefunds({
    ALIPAY_APP_ID,
    ALIPAY_PRIVATE_KEY: alipayApp.privatePem,
    ALIPAY_PUBLIC_KEY: alipayKeys.publicPem,
    ALIPAY_GATEWAY: alipay.gatewayUrl,
    ALIPAY_PRODUCT: 'qr',
    WECHATPAY_APP_ID: WECHAT.appId,
    WECHATPAY_MCH_ID: WECHAT.mchId,
    WECHATPAY_MCH_SERIAL: WECHAT.mchSerial,
    WECHATPAY_PRIVATE_KEY: wechatMerchant.privatePem,
    WECHATPAY_API_V3_KEY: WECHAT.apiV3Key,
    WECHATPAY_PLATFORM_SERIAL: WECHAT.platformSerial,
    WECHATPAY_PLATFORM_PUBLIC_KEY: wechatPlatform.publicPem,
    WECHATPAY_BASE_URL: wechat.url,
  });
}, 60_000);
afterAll(async () => {
  await t.stop();
  await alipay.close();
  await wechat.close();
});

interface RefundAnswer {
  id: string;
  status: string;
}

/** A learner orders a 99.00 CNY course and starts paying with `provider`; returns the ids. */
async function startPaying(provider: 'alipay' | 'wechatpay') {
  const buyer = await t.kit.caller('learner');
  const course = await t.course(9900);
  const order = await t.kit.expectStatus<{ id: string }>(201, 'POST', '/api/v1/orders', {
    as: buyer,
    body: { courseIds: [course.id] },
  });
  const payment = await t.kit.expectStatus<{ id: string }>(
    201,
    'POST',
    `/api/v1/orders/${order.id}/payments`,
    {
      as: buyer,
      body: { provider },
    },
  );
  return { buyer, orderId: order.id, paymentId: payment.id };
}

async function orderStatus(buyer: RefundsTest['learner'], orderId: string): Promise<string> {
  return (
    await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, { as: buyer })
  ).status;
}

describe('refunds through the Alipay adapter', () => {
  it('the send job calls alipay.trade.refund, signed; Alipay refunds at once (the order partly refunded); a forged answer is not believed', async () => {
    const { buyer, orderId, paymentId } = await startPaying('alipay');
    const trade = alipay.trades.get(paymentId);
    if (!trade) throw new Error('the adapter did not create the trade at the gateway');
    trade.status = 'TRADE_SUCCESS';
    const form = signNotification(
      {
        notify_time: '2026-03-01 18:00:05',
        notify_type: 'trade_status_sync',
        notify_id: `n-${paymentId}`,
        charset: 'utf-8',
        version: '1.0',
        app_id: ALIPAY_APP_ID,
        trade_no: trade.tradeNo,
        out_trade_no: paymentId,
        trade_status: 'TRADE_SUCCESS',
        total_amount: '99.00',
        gmt_payment: '2026-03-01 18:00:00',
      },
      alipayKeys.privateKey,
    );
    const notified = await t.kit.request('POST', '/api/v1/payments/notify/alipay', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: formBody(form).toString(),
    });
    expect(notified.statusCode, notified.body).toBe(200);
    expect(notified.body).toBe('success');
    expect(await orderStatus(buyer, orderId)).toBe('paid');
    await t.kit.settle();

    const refund = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { amount: 2500, reason: '不想学了' },
    });
    expect(refund.status).toBe('approved');
    await t.sendRefund(refund.id);

    const call = alipay.verified.find((p) => p.method === 'alipay.trade.refund');
    expect(call && JSON.parse(call.biz_content ?? '{}')).toMatchObject({
      out_trade_no: paymentId,
      out_request_no: refund.id,
      refund_amount: '25.00',
    });
    expect(trade.refunds.get(refund.id)).toBe('25.00');
    const after = await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refund.id}`, {
      as: buyer,
    });
    expect(after.status).toBe('succeeded');
    expect(await orderStatus(buyer, orderId)).toBe('partially_refunded');

    // a forged answer (signed with another key) is not believed: the refund stays as it was
    const second = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { amount: 1000, reason: 'again' },
    });
    alipay.forgeAnswers(rsaPair().privateKey);
    try {
      await expect(t.sendRefund(second.id)).rejects.toThrow();
    } finally {
      alipay.forgeAnswers(undefined);
    }
    const unsure = await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${second.id}`, {
      as: buyer,
    });
    expect(unsure.status).toBe('approved');
  });
});

describe('refunds through the WeChat Pay v3 adapter', () => {
  it('the send job posts a signed refund; WeChat Pay answers PROCESSING, and its signed REFUND.SUCCESS settles it', async () => {
    const { buyer, orderId, paymentId } = await startPaying('wechatpay');
    const trade = wechat.trades.get(paymentId);
    if (!trade) throw new Error('the adapter did not create the trade');
    trade.state = 'SUCCESS';
    const signer = {
      platformKey: wechatPlatform.privateKey,
      platformSerial: WECHAT.platformSerial,
      apiV3Key: WECHAT.apiV3Key,
    };
    const paid = buildNotification(signer, {
      eventType: 'TRANSACTION.SUCCESS',
      originalType: 'transaction',
      resource: {
        appid: WECHAT.appId,
        mchid: WECHAT.mchId,
        out_trade_no: paymentId,
        transaction_id: trade.transactionId,
        trade_type: 'NATIVE',
        trade_state: 'SUCCESS',
        trade_state_desc: '支付成功',
        success_time: '2026-03-01T18:00:00+08:00',
        payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
        amount: { total: 9900, payer_total: 9900, currency: 'CNY', payer_currency: 'CNY' },
      },
    });
    const notified = await t.kit.request('POST', '/api/v1/payments/notify/wechatpay', {
      headers: paid.headers,
      body: paid.body,
    });
    expect(notified.statusCode, notified.body).toBeLessThan(300);
    expect(await orderStatus(buyer, orderId)).toBe('paid');
    await t.kit.settle();

    const refund = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { reason: '不想学了' },
    });
    await t.sendRefund(refund.id);
    const call = wechat.verified.find((r) => r.url === '/v3/refund/domestic/refunds');
    expect(call?.body).toMatchObject({
      out_trade_no: paymentId,
      out_refund_no: refund.id,
      amount: { refund: 9900, total: 9900, currency: 'CNY' },
    });
    const sent = await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refund.id}`, {
      as: buyer,
    });
    expect(sent.status).toBe('sent');

    const providerRefund = trade.refunds.get(refund.id);
    const done = buildNotification(signer, {
      eventType: 'REFUND.SUCCESS',
      originalType: 'refund',
      resource: {
        mchid: WECHAT.mchId,
        out_trade_no: paymentId,
        transaction_id: trade.transactionId,
        out_refund_no: refund.id,
        refund_id: providerRefund?.refund_id ?? 'missing',
        refund_status: 'SUCCESS',
        success_time: '2026-03-02T09:00:00+08:00',
        user_received_account: '支付用户零钱',
        amount: { total: 9900, refund: 9900, payer_total: 9900, payer_refund: 9900 },
      },
    });
    // a tampered copy is refused and changes nothing; the genuine one settles the refund
    const tampered = await t.kit.request('POST', '/api/v1/payments/notify/wechatpay', {
      headers: done.headers,
      body: done.body.replace('"event_type":"REFUND.SUCCESS"', '"event_type":"REFUND.ABNORMAL"'),
    });
    expect(tampered.statusCode).toBe(401);
    expect(await orderStatus(buyer, orderId)).toBe('paid');
    const settled = await t.kit.request('POST', '/api/v1/payments/notify/wechatpay', {
      headers: done.headers,
      body: done.body,
    });
    expect(settled.statusCode, settled.body).toBeLessThan(300);
    const after = await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refund.id}`, {
      as: buyer,
    });
    expect(after.status).toBe('succeeded');
    expect(await orderStatus(buyer, orderId)).toBe('refunded');
  });
});
