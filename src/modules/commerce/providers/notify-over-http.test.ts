import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock, epochSeconds } from '../../../platform/clock.js';
import { registerRawBody } from '../../../platform/http/raw-body.js';
import type { App } from '../../../platform/http/server.js';
import { createTestServer } from '../../../platform/http/test-support.js';
import { money } from '../../../platform/money.js';
import { formBody, rsaPair, signNotification } from './alipay.test-support.js';
import { stripeEvent, stripeSignature } from './card.test-support.js';
import { notificationHeaders } from './notification-parsing.js';
import type { ProviderName, VerifiedNotification } from './provider.js';
import { createProviders, type PaymentProviders } from './providers.js';
import { ProviderSettings } from './providers.settings.js';
import { parseSettings } from '../../../platform/settings.js';
import { buildNotification } from './wechatpay.test-support.js';

/**
 * Notifications over real HTTP through the platform's server, raw body capture and error
 * handler, the way the commerce notify route will use the adapters: every refusal is a 4xx
 * problem+json, never a 500, and the answer is what each provider expects.
 */

const alipayApp = rsaPair();
const alipayKey = rsaPair();
const wechatMerchant = rsaPair();
const wechatPlatform = rsaPair();
const env = {
  SANDBOX_NOTIFY_SECRET: 'a-sandbox-secret-of-at-least-32-characters',
  ALIPAY_APP_ID: '2021000000000001',
  ALIPAY_PRIVATE_KEY: alipayApp.privatePem,
  ALIPAY_PUBLIC_KEY: alipayKey.publicPem,
  WECHATPAY_APP_ID: 'wxd678efh567hg6787',
  WECHATPAY_MCH_ID: '1900000109',
  WECHATPAY_MCH_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHATPAY_PRIVATE_KEY: wechatMerchant.privatePem,
  WECHATPAY_API_V3_KEY: 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6',
  WECHATPAY_PLATFORM_SERIAL: 'PUB_KEY_ID_0114232134912410000000000000',
  WECHATPAY_PLATFORM_PUBLIC_KEY: wechatPlatform.publicPem,
  STRIPE_SECRET_KEY: 'sk_test_51LecternFakeKey0000000000000000',
  STRIPE_WEBHOOK_SECRET: 'whsec_lectern_test_0123456789abcdef',
};

const clock = createTestClock(new Date());
let providers: PaymentProviders;
let app: App;
let base: string;
/** What the route recorded, once per notification id, as the module will. */
const recorded = new Map<string, VerifiedNotification>();

beforeAll(async () => {
  providers = createProviders(parseSettings(ProviderSettings, env).values, { clock });
  app = await createTestServer();
  registerRawBody(app);
  app.post<{ Params: { provider: string } }>(
    '/notify/:provider',
    { config: { rawBody: true } },
    async (request, reply) => {
      const provider = providers.get(request.params.provider as ProviderName);
      if (!provider) return reply.code(404).send();
      const verified = await provider.verifyNotification({
        headers: notificationHeaders(request.headers),
        rawBody: request.rawBody ?? Buffer.alloc(0),
        ...(request.rawBody &&
        typeof request.body === 'object' &&
        request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
          ? { form: request.body as Record<string, string> }
          : {}),
      });
      if (!recorded.has(verified.notificationId)) recorded.set(verified.notificationId, verified);
      const ack = provider.acknowledge('ok');
      return reply.code(ack.status).type(ack.contentType).send(ack.body);
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
});

const post = (provider: string, headers: Record<string, string>, body: string | Buffer) =>
  fetch(`${base}/notify/${provider}`, { method: 'POST', headers, body });

describe('notifications over HTTP', () => {
  it('sandbox: a delayed, duplicated delivery is answered 200 each time and recorded once', async () => {
    await providers.sandbox.createPayment({
      paymentId: 'pay_http_1',
      orderId: 'ord_1',
      amount: money(1234, 'CNY'),
      subject: 'x',
      notifyUrl: `${base}/notify/sandbox`,
      expiresAt: new Date(clock().getTime() + 60_000),
    });
    const notification = await providers.sandbox.simulate('pay_http_1', 'pay');
    expect(await providers.sandbox.deliver(notification, { duplicates: 2, delayMs: 10 })).toEqual([
      200, 200, 200,
    ]);
    const id = (JSON.parse(notification.body) as { id: string }).id;
    expect(recorded.get(id)).toMatchObject({
      paymentId: 'pay_http_1',
      amount: { amount: 1234, currency: 'CNY' },
    });

    const tampered = await post('sandbox', notification.headers, notification.body.replace('1234', '1'));
    expect(tampered.status).toBe(401);
    expect(tampered.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await tampered.json()).toMatchObject({ code: 'commerce.notification-bad-signature' });
    for (const body of ['', notification.body.slice(0, 30), 'not json']) {
      const res = await post('sandbox', notification.headers, body);
      expect(res.status, body).toBeGreaterThanOrEqual(400);
      expect(res.status, body).toBeLessThan(500);
    }
  });

  it('alipay: a signed form post is answered with the text success; a forged or doubled field is a 4xx', async () => {
    const form = signNotification(
      {
        notify_time: '2026-03-01 18:00:05',
        notify_id: 'n-http-1',
        app_id: env.ALIPAY_APP_ID,
        trade_no: 't1',
        out_trade_no: 'pay_http_2',
        trade_status: 'TRADE_SUCCESS',
        total_amount: '12.34',
        subject: '课程',
        gmt_payment: '2026-03-01 18:00:00',
      },
      alipayKey.privateKey,
    );
    const headers = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };
    const ok = await post('alipay', headers, formBody(form));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('success');
    expect(recorded.get('n-http-1')?.amount).toEqual({ amount: 1234, currency: 'CNY' });

    const forged = await post('alipay', headers, formBody({ ...form, total_amount: '0.01' }));
    expect(forged.status).toBe(401);
    const doubled = await post(
      'alipay',
      headers,
      Buffer.concat([formBody(form), Buffer.from('&total_amount=0.01')]),
    );
    expect(doubled.status).toBe(400);
  });

  it('wechat pay: a signed notification is answered 204; a stale one is a 4xx', async () => {
    const signer = {
      platformKey: wechatPlatform.privateKey,
      platformSerial: env.WECHATPAY_PLATFORM_SERIAL,
      apiV3Key: env.WECHATPAY_API_V3_KEY,
    };
    const resource = {
      appid: env.WECHATPAY_APP_ID,
      mchid: env.WECHATPAY_MCH_ID,
      out_trade_no: 'pay_http_3',
      transaction_id: '4200000000000000000000000001',
      trade_state: 'SUCCESS',
      success_time: '2026-03-01T18:00:00+08:00',
      amount: { total: 1234, currency: 'CNY' },
    };
    const now = epochSeconds(clock());
    const good = buildNotification(signer, {
      id: 'EV-http-1',
      eventType: 'TRANSACTION.SUCCESS',
      originalType: 'transaction',
      resource,
      timestamp: now,
    });
    expect((await post('wechatpay', good.headers, good.body)).status).toBe(204);
    expect(recorded.get('EV-http-1')?.paymentId).toBe('pay_http_3');
    const stale = buildNotification(signer, {
      eventType: 'TRANSACTION.SUCCESS',
      originalType: 'transaction',
      resource,
      timestamp: now - 600,
    });
    const res = await post('wechatpay', stale.headers, stale.body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'commerce.notification-stale' });
  });

  it('card: a signed Stripe event is answered 200; a bad signature is a 4xx', async () => {
    const body = JSON.stringify(
      stripeEvent(
        'payment_intent.succeeded',
        {
          id: 'pi_1',
          object: 'payment_intent',
          amount: 1999,
          amount_received: 1999,
          currency: 'usd',
          status: 'succeeded',
          metadata: { paymentId: 'pay_http_4' },
        },
        { id: 'evt_http_1' },
      ),
    );
    const headers = { 'content-type': 'application/json' };
    const ok = await post(
      'card',
      {
        ...headers,
        'stripe-signature': stripeSignature(body, env.STRIPE_WEBHOOK_SECRET, epochSeconds(clock())),
      },
      body,
    );
    expect(ok.status).toBe(200);
    expect(recorded.get('evt_http_1')?.amount).toEqual({ amount: 1999, currency: 'USD' });
    const bad = await post(
      'card',
      { ...headers, 'stripe-signature': stripeSignature(body, 'whsec_other', epochSeconds(clock())) },
      body,
    );
    expect(bad.status).toBe(401);
  });
});
