import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '../../../platform/settings.js';
import { money } from '../../../platform/money.js';
import { formBody, rsaPair, signNotification } from './alipay.test-support.js';
import { ProviderConfigError } from './provider.errors.js';
import { createProviders } from './providers.js';
import { ProviderSettings } from './providers.settings.js';

const settingsFrom = (env: Record<string, string>) => {
  const { values, problems } = parseSettings(ProviderSettings, env);
  expect(problems).toEqual([]);
  return values;
};

const alipayApp = rsaPair();
const alipayKey = rsaPair();
const wechatMerchant = rsaPair();
const wechatPlatform = rsaPair();

/** Keys written the ways merchants paste them: bare base64 bodies, and PEM with `\n` written out. */
const fullEnv = {
  SANDBOX_NOTIFY_SECRET: 'a-sandbox-secret-of-at-least-32-characters',
  ALIPAY_APP_ID: '2021000000000001',
  ALIPAY_PRIVATE_KEY: alipayApp.privateKey.export({ format: 'der', type: 'pkcs1' }).toString('base64'),
  ALIPAY_PUBLIC_KEY: alipayKey.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  WECHATPAY_APP_ID: 'wxd678efh567hg6787',
  WECHATPAY_MCH_ID: '1900000109',
  WECHATPAY_MCH_SERIAL: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1',
  WECHATPAY_PRIVATE_KEY: wechatMerchant.privatePem.replaceAll('\n', '\\n'),
  WECHATPAY_API_V3_KEY: 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6',
  WECHATPAY_PLATFORM_SERIAL: 'PUB_KEY_ID_0114232134912410000000000000',
  WECHATPAY_PLATFORM_PUBLIC_KEY: wechatPlatform.publicPem,
  STRIPE_SECRET_KEY: 'sk_test_51LecternFakeKey0000000000000000',
  STRIPE_WEBHOOK_SECRET: 'whsec_lectern_test_0123456789abcdef',
};

describe('createProviders', () => {
  it('has only the sandbox when nothing is configured, with a random notification secret', async () => {
    const providers = createProviders(settingsFrom({}));
    expect(providers.names).toEqual(['sandbox']);
    expect(providers.get('alipay')).toBeUndefined();
    expect(providers.sandboxSecretGenerated).toBe(true);
    // the generated secret still signs and verifies within this process
    await providers.sandbox.createPayment({
      paymentId: 'pay_1',
      orderId: 'ord_1',
      amount: money(100, 'CNY'),
      subject: 's',
      notifyUrl: 'http://127.0.0.1:1/n',
      expiresAt: new Date(Date.now() + 60_000),
    });
    const n = await providers.sandbox.simulate('pay_1', 'pay');
    await expect(
      providers.sandbox.verifyNotification({ headers: n.headers, rawBody: Buffer.from(n.body) }),
    ).resolves.toMatchObject({
      kind: 'payment.succeeded',
    });
  });

  it('turns on every provider whose settings are complete, reading keys as merchants paste them', async () => {
    const providers = createProviders(settingsFrom(fullEnv));
    expect(providers.names).toEqual(['sandbox', 'alipay', 'wechatpay', 'card']);
    expect(providers.sandboxSecretGenerated).toBe(false);
    expect(providers.get('card')?.name).toBe('card');
    // the Alipay public key read from bare base64 checks a notification Alipay signed
    const form = signNotification(
      {
        notify_time: '2026-03-01 18:00:05',
        notify_id: 'n1',
        app_id: fullEnv.ALIPAY_APP_ID,
        trade_no: 't1',
        out_trade_no: 'pay_1',
        trade_status: 'TRADE_SUCCESS',
        total_amount: '12.34',
        gmt_payment: '2026-03-01 18:00:00',
      },
      alipayKey.privateKey,
    );
    await expect(
      providers.get('alipay')!.verifyNotification({ headers: {}, rawBody: formBody(form), form }),
    ).resolves.toMatchObject({
      amount: { amount: 1234, currency: 'CNY' },
    });
  });

  it('loads the Stripe and Alipay SDKs only at the first call that needs them', async () => {
    // a fresh process: this one may have loaded them already; a resolve hook reports each SDK
    // the moment something imports it
    const hooks = `export let port; export function initialize(data) { port = data.port; }
      export async function resolve(s, c, next) { if (s === 'stripe' || s === 'alipay-sdk') port.postMessage(s); return next(s, c); }`;
    const script = `
      import { register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const loaded = [];
      port1.on('message', (name) => loaded.push(name));
      port1.unref();
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), { data: { port: port2 }, transferList: [port2] });
      const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
      const { createProviders } = await import(${JSON.stringify(new URL('./providers.ts', import.meta.url).href)});
      const providers = createProviders(JSON.parse(process.env.SETTINGS));
      await settle();
      const steps = { configured: [...loaded] };
      // a malformed webhook is refused before the SDK is needed
      await providers.get('card').verifyNotification({ headers: {}, rawBody: Buffer.from('{}') }).catch(() => {});
      await settle();
      steps.malformed = [...loaded];
      await providers.get('card').verifyNotification({ headers: { 'stripe-signature': 't=1,v1=00' }, rawBody: Buffer.from('{}') }).catch(() => {});
      await settle();
      steps.card = [...loaded];
      await providers.get('alipay').verifyNotification({ headers: {}, rawBody: Buffer.from('sign=AAAA&sign_type=RSA2') }).catch(() => {});
      await settle();
      steps.alipay = [...loaded];
      console.log(JSON.stringify(steps));`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env: { ...process.env, SETTINGS: JSON.stringify(settingsFrom(fullEnv)) } },
    );
    expect(JSON.parse(stdout)).toEqual({
      configured: [],
      malformed: [],
      card: ['stripe'],
      alipay: ['stripe', 'alipay-sdk'],
    });
  }, 30_000);

  it('stops on half a configuration, naming what is missing', () => {
    const { WECHATPAY_API_V3_KEY: _, WECHATPAY_PLATFORM_SERIAL: __, ...partial } = fullEnv;
    expect(() => createProviders(settingsFrom(partial))).toThrow(
      new ProviderConfigError(
        'WeChat Pay is half configured: set WECHATPAY_API_V3_KEY, WECHATPAY_PLATFORM_SERIAL too, or unset the others',
      ),
    );
  });

  it('refuses a key that does not parse without echoing it', () => {
    const secret = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-broken';
    let error: unknown;
    try {
      createProviders(settingsFrom({ ...fullEnv, ALIPAY_PRIVATE_KEY: secret }));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProviderConfigError);
    expect((error as Error).message).toBe('ALIPAY_PRIVATE_KEY: not a private key in PEM or base64 DER');
  });

  it('reports bad setting values without echoing secrets', () => {
    const { problems } = parseSettings(ProviderSettings, {
      WECHATPAY_API_V3_KEY: 'too-short-secret',
      ALIPAY_PRODUCT: 'app',
      PAYMENT_NOTIFY_TOLERANCE_SECONDS: '5',
    });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('too-short-secret');
    expect(problems.find((p) => p.startsWith('ALIPAY_PRODUCT'))).toBe(
      'ALIPAY_PRODUCT: expected one of page, qr',
    );
  });
});
