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
