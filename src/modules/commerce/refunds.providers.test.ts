import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
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
const warnings: { msg: string; refundId?: string; provider?: string; providerStatus?: string }[] = [];
beforeAll(async () => {
  // the fake gateways keep the test's time, so a check run an hour later still passes their timestamp checks
  const now = () => t.clock();
  alipay = await startFakeAlipay({
    appId: ALIPAY_APP_ID,
    appPublicKey: alipayApp.publicKey,
    alipay: alipayKeys,
    now,
  });
  wechat = await startFakeWechatPay({
    mchId: WECHAT.mchId,
    appId: WECHAT.appId,
    mchSerial: WECHAT.mchSerial,
    mchPublicKey: wechatMerchant.publicKey,
    platformKey: wechatPlatform.privateKey,
    platformSerial: WECHAT.platformSerial,
    now,
  });
  const logger = pino(
    { level: 'warn' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        warnings.push(JSON.parse(chunk.toString('utf8')) as (typeof warnings)[number]);
        done();
      },
    }),
  );
  t = await startRefunds(
    {
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
      COMMERCE_REFUND_STUCK_MINUTES: '60',
    },
    { platform: { logger } },
  );
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

interface RefundCheckAnswer {
  refundId: string;
  status: string;
  providerStatus: string;
  outcome: string;
}

const wechatSigner = {
  platformKey: wechatPlatform.privateKey,
  platformSerial: WECHAT.platformSerial,
  apiV3Key: WECHAT.apiV3Key,
};

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

/** The order paid with Alipay: the trade paid at the gateway and its signed notification accepted. */
async function paidWithAlipay() {
  const paying = await startPaying('alipay');
  const trade = alipay.trades.get(paying.paymentId);
  if (!trade) throw new Error('the adapter did not create the trade at the gateway');
  trade.status = 'TRADE_SUCCESS';
  const form = signNotification(
    {
      notify_time: '2026-03-01 18:00:05',
      notify_type: 'trade_status_sync',
      notify_id: `n-${paying.paymentId}`,
      charset: 'utf-8',
      version: '1.0',
      app_id: ALIPAY_APP_ID,
      trade_no: trade.tradeNo,
      out_trade_no: paying.paymentId,
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
  expect(await orderStatus(paying.buyer, paying.orderId)).toBe('paid');
  await t.kit.settle();
  return { ...paying, trade };
}

/** The order paid with WeChat Pay: the trade paid and its signed TRANSACTION.SUCCESS accepted. */
async function paidWithWechat() {
  const paying = await startPaying('wechatpay');
  const trade = wechat.trades.get(paying.paymentId);
  if (!trade) throw new Error('the adapter did not create the trade');
  trade.state = 'SUCCESS';
  const paid = buildNotification(wechatSigner, {
    eventType: 'TRANSACTION.SUCCESS',
    originalType: 'transaction',
    resource: {
      appid: WECHAT.appId,
      mchid: WECHAT.mchId,
      out_trade_no: paying.paymentId,
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
  expect(await orderStatus(paying.buyer, paying.orderId)).toBe('paid');
  await t.kit.settle();
  return { ...paying, trade };
}

async function orderStatus(buyer: RefundsTest['learner'], orderId: string): Promise<string> {
  return (
    await t.kit.expectStatus<{ status: string }>(200, 'GET', `/api/v1/orders/${orderId}`, { as: buyer })
  ).status;
}

async function refundStatus(buyer: RefundsTest['learner'], refundId: string): Promise<string> {
  return (await t.kit.expectStatus<RefundAnswer>(200, 'GET', `/api/v1/refunds/${refundId}`, { as: buyer }))
    .status;
}

/** What `lectern_commerce_refunds_stuck_total` counts for a provider. */
async function stuckCount(provider: string): Promise<number> {
  const text = await t.kit.app.platform.metrics.registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`lectern_commerce_refunds_stuck_total{provider="${provider}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Rows that settling a refund writes: its transitions, the ledger journal, the order's refunded event. */
async function traces(orderId: string, refundId: string) {
  const refunded = (await t.kit.outbox('commerce', 'commerce.order.refunded')).filter(
    (e) => e.aggregateId === orderId,
  );
  return {
    transitions: await t.count('refund_transitions', sql`refund_id = ${refundId}`),
    refundedEvents: refunded.length,
  };
}

/** Run the scheduled stuck-refund check an hour on, when `refundId` counts as stuck; the clock comes back after. */
async function checkAnHourLater(): Promise<void> {
  t.clock.advance(61 * 60);
  try {
    await t.runJob('commerce.check-stuck-refunds', {});
  } finally {
    t.clock.advance(-61 * 60);
  }
}

const UNSETTLED = 'refund still unsettled at the provider';

const warnedAbout = (refundId: string) =>
  warnings.filter((w) => w.refundId === refundId && w.msg === UNSETTLED).map((w) => w.providerStatus);

/**
 * The stuck counter of a provider and the warnings so far; `counted()` later checks that the
 * counter rose by one for each unsettled refund of that provider warned about since (the check
 * also goes over other tests' refunds still unsettled), and returns how many.
 */
async function stuckSince(provider: string) {
  const count = await stuckCount(provider);
  const seen = warnings.length;
  return {
    async counted(): Promise<number> {
      const warned = warnings
        .slice(seen)
        .filter((w) => w.msg === UNSETTLED && w.provider === provider).length;
      expect(await stuckCount(provider)).toBe(count + warned);
      return warned;
    },
  };
}

describe('refunds through the Alipay adapter', () => {
  it('the send job calls alipay.trade.refund, signed; Alipay refunds at once (the order partly refunded); a forged answer is not believed', async () => {
    const { buyer, orderId, paymentId, trade } = await paidWithAlipay();

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
    expect(await refundStatus(buyer, refund.id)).toBe('succeeded');
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
    expect(await refundStatus(buyer, second.id)).toBe('approved');
  });

  it('a stuck refund is asked about with a signed alipay.trade.fastpay.refund.query: unsigned, forged and unfinished answers leave it for the next round, REFUND_SUCCESS settles it', async () => {
    const { buyer, orderId, paymentId, trade } = await paidWithAlipay();
    const refund = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { amount: 3000, reason: '不想学了' },
    });
    // Alipay takes the refund, but its answer does not check: locally it stays approved
    alipay.forgeAnswers(rsaPair().privateKey);
    try {
      await expect(t.sendRefund(refund.id)).rejects.toThrow();
    } finally {
      alipay.forgeAnswers(undefined);
    }
    expect(trade.refunds.get(refund.id)).toBe('30.00');
    trade.unfinished.add(refund.id);
    // from now on the refund API is down, so the check's resend fails and only the query can tell
    alipay.outage.add('alipay.trade.refund');
    const before = await traces(orderId, refund.id);
    const stuck = await stuckSince('alipay');
    try {
      alipay.unsigned(true);
      try {
        await checkAnHourLater();
      } finally {
        alipay.unsigned(false);
      }
      alipay.forgeAnswers(rsaPair().privateKey);
      try {
        await checkAnHourLater();
      } finally {
        alipay.forgeAnswers(undefined);
      }
      expect(await refundStatus(buyer, refund.id)).toBe('approved');
      expect(await traces(orderId, refund.id)).toEqual(before);
      expect(await orderStatus(buyer, orderId)).toBe('paid');

      // a genuine answer without refund_status: Alipay has the request but no done refund yet
      await checkAnHourLater();
      expect(await refundStatus(buyer, refund.id)).toBe('approved');
      expect(await traces(orderId, refund.id)).toEqual(before);
      expect(warnedAbout(refund.id)).toEqual(['unknown', 'unknown', 'pending']);
      expect(await stuck.counted()).toBeGreaterThanOrEqual(3);

      trade.unfinished.delete(refund.id);
      await checkAnHourLater();
    } finally {
      alipay.outage.delete('alipay.trade.refund');
    }
    const queries = alipay.verified.filter(
      (p) => p.method === 'alipay.trade.fastpay.refund.query' && p.biz_content?.includes(refund.id),
    );
    expect(queries).toHaveLength(4);
    expect(JSON.parse(queries[0]?.biz_content ?? '{}')).toEqual({
      out_trade_no: paymentId,
      out_request_no: refund.id,
    });
    expect(await refundStatus(buyer, refund.id)).toBe('succeeded');
    expect(await orderStatus(buyer, orderId)).toBe('partially_refunded');
    expect((await traces(orderId, refund.id)).refundedEvents).toBe(1);
    // settled in the fourth round: not warned about nor counted again
    expect(warnedAbout(refund.id)).toHaveLength(3);
    await stuck.counted();
  });

  it("Alipay's system error on a refund is an outage: the refund stays approved, its amount held, and the retry completes it", async () => {
    const { buyer, orderId, trade } = await paidWithAlipay();
    const refund = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { amount: 9900, reason: '系统错误' },
    });
    alipay.systemError.add('alipay.trade.refund');
    try {
      await expect(t.sendRefund(refund.id)).rejects.toThrow();
    } finally {
      alipay.systemError.delete('alipay.trade.refund');
    }
    expect(await refundStatus(buyer, refund.id)).toBe('approved');
    // still held: nothing more can be asked for
    const more = await t.kit.request('POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { amount: 100, reason: 'more' },
    });
    expect(more.statusCode).toBe(409);
    await t.sendRefund(refund.id);
    expect(trade.refunds.get(refund.id)).toBe('99.00');
    expect(await refundStatus(buyer, refund.id)).toBe('succeeded');
    expect(await orderStatus(buyer, orderId)).toBe('refunded');
  });
  it("a refund Alipay does not know is not settled; another learner's refund id is a 404", async () => {
    const { buyer, orderId } = await paidWithAlipay();
    const refund = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { amount: 500, reason: 'a little' },
    });
    // the refund never reached Alipay (the gateway was down), and asking shows it does not have it
    alipay.outage.add('alipay.trade.refund');
    try {
      await expect(t.sendRefund(refund.id)).rejects.toThrow();
      const check = await t.kit.expectStatus<RefundCheckAnswer>(
        200,
        'POST',
        `/api/v1/refunds/${refund.id}/query`,
        { as: buyer },
      );
      expect(check).toEqual({
        refundId: refund.id,
        status: 'approved',
        providerStatus: 'unknown',
        outcome: 'none',
      });
    } finally {
      alipay.outage.delete('alipay.trade.refund');
    }
    const other = await t.kit.caller('learner');
    const hidden = await t.kit.request('POST', `/api/v1/refunds/${refund.id}/query`, { as: other });
    expect(hidden.statusCode).toBe(404);
    expect(hidden.headers['content-type']).toContain('application/problem+json');
    const nul = await t.kit.request(
      'POST',
      `/api/v1/refunds/${encodeURIComponent(`${refund.id}\u0000`)}/query`,
      {
        as: buyer,
      },
    );
    expect(nul.statusCode).toBeGreaterThanOrEqual(400);
    expect(nul.statusCode).toBeLessThan(500);
    expect(await refundStatus(buyer, refund.id)).toBe('approved');
  });
});

describe('refunds through the WeChat Pay v3 adapter', () => {
  it('the send job posts a signed refund; WeChat Pay answers PROCESSING, and its signed REFUND.SUCCESS settles it', async () => {
    const { buyer, orderId, paymentId, trade } = await paidWithWechat();

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
    expect(await refundStatus(buyer, refund.id)).toBe('sent');

    const providerRefund = trade.refunds.get(refund.id);
    const done = buildNotification(wechatSigner, {
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
    expect(await refundStatus(buyer, refund.id)).toBe('succeeded');
    expect(await orderStatus(buyer, orderId)).toBe('refunded');
  });

  it('a stuck refund is asked about with a signed GET /v3/refund/domestic/refunds/{out_refund_no}: forged, unsigned and PROCESSING answers leave it, SUCCESS settles it once', async () => {
    const { buyer, orderId, paymentId, trade } = await paidWithWechat();
    const refund = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { reason: '不想学了' },
    });
    await t.sendRefund(refund.id);
    expect(await refundStatus(buyer, refund.id)).toBe('sent');
    // the REFUND.SUCCESS notification never comes
    const providerRefund = trade.refunds.get(refund.id);
    if (!providerRefund) throw new Error('the refund did not reach the fake WeChat Pay');
    providerRefund.status = 'SUCCESS';
    const before = await traces(orderId, refund.id);
    const stuck = await stuckSince('wechatpay');

    wechat.forgeAnswers(wechatMerchant.privateKey);
    try {
      await checkAnHourLater();
    } finally {
      wechat.forgeAnswers(undefined);
    }
    wechat.unsigned(true);
    try {
      await checkAnHourLater();
    } finally {
      wechat.unsigned(false);
    }
    expect(await refundStatus(buyer, refund.id)).toBe('sent');
    expect(await traces(orderId, refund.id)).toEqual(before);
    expect(await orderStatus(buyer, orderId)).toBe('paid');

    providerRefund.status = 'PROCESSING';
    await checkAnHourLater();
    expect(await refundStatus(buyer, refund.id)).toBe('sent');
    expect(await traces(orderId, refund.id)).toEqual(before);
    expect(warnedAbout(refund.id)).toEqual(['unknown', 'unknown', 'pending']);
    expect(await stuck.counted()).toBeGreaterThanOrEqual(3);

    providerRefund.status = 'SUCCESS';
    await checkAnHourLater();
    const queries = wechat.verified.filter(
      (r) => r.method === 'GET' && r.url === `/v3/refund/domestic/refunds/${refund.id}`,
    );
    expect(queries).toHaveLength(4);
    expect(await refundStatus(buyer, refund.id)).toBe('succeeded');
    expect(await orderStatus(buyer, orderId)).toBe('refunded');
    expect((await traces(orderId, refund.id)).refundedEvents).toBe(1);
    expect(warnedAbout(refund.id)).toHaveLength(3);
    await stuck.counted();

    // the late notification finds it settled: nothing more happens
    const late = buildNotification(wechatSigner, {
      eventType: 'REFUND.SUCCESS',
      originalType: 'refund',
      resource: {
        mchid: WECHAT.mchId,
        out_trade_no: paymentId,
        transaction_id: trade.transactionId,
        out_refund_no: refund.id,
        refund_id: providerRefund.refund_id,
        refund_status: 'SUCCESS',
        success_time: '2026-03-02T09:00:00+08:00',
        amount: { total: 9900, refund: 9900, payer_total: 9900, payer_refund: 9900 },
      },
    });
    const settled = await t.kit.request('POST', '/api/v1/payments/notify/wechatpay', {
      headers: late.headers,
      body: late.body,
    });
    expect(settled.statusCode, settled.body).toBeLessThan(300);
    expect((await traces(orderId, refund.id)).refundedEvents).toBe(1);
  });

  it('a refund WeChat Pay closed fails when its learner asks now; its amount is free to refund again', async () => {
    const { buyer, orderId, trade } = await paidWithWechat();
    const refund = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { amount: 5000, reason: '不想学了' },
    });
    await t.sendRefund(refund.id);
    const providerRefund = trade.refunds.get(refund.id);
    if (!providerRefund) throw new Error('the refund did not reach the fake WeChat Pay');
    providerRefund.status = 'CLOSED';
    const other = await t.kit.caller('learner');
    expect(
      (await t.kit.request('POST', `/api/v1/refunds/${refund.id}/query`, { as: other })).statusCode,
    ).toBe(404);
    expect(await refundStatus(buyer, refund.id)).toBe('sent');

    const check = await t.kit.expectStatus<RefundCheckAnswer>(
      200,
      'POST',
      `/api/v1/refunds/${refund.id}/query`,
      {
        as: buyer,
      },
    );
    expect(check).toEqual({
      refundId: refund.id,
      status: 'failed',
      providerStatus: 'failed',
      outcome: 'applied',
    });
    expect(await orderStatus(buyer, orderId)).toBe('paid');
    expect((await traces(orderId, refund.id)).refundedEvents).toBe(0);
    // the failed refund holds nothing: the whole price can be asked for again
    const whole = await t.kit.expectStatus<RefundAnswer>(201, 'POST', `/api/v1/orders/${orderId}/refunds`, {
      as: buyer,
      body: { reason: 'once more' },
    });
    expect(whole.status).toBe('approved');
  });
});
