import { Type } from 'typebox';
import type { SettingsOf } from '../../../platform/settings.js';

const optionalText = (description: string, secret = false) =>
  Type.Optional(Type.String({ minLength: 1, description, ...(secret ? { secret: true } : {}) }));

/**
 * Payment provider settings. A provider is on when its required values are set (all of them:
 * half a configuration stops the start-up); the sandbox is always on. Keys are PEM (newlines may
 * be written as `\n`) or the bare base64 body the provider's console shows.
 */
export const ProviderSettings = Type.Object({
  SANDBOX_NOTIFY_SECRET: Type.Optional(
    Type.String({
      minLength: 32,
      secret: true,
      sameOnEveryInstance: true,
      description:
        'HMAC key of sandbox payment notifications, the same on every instance (32+ characters); unset: random per process',
    }),
  ),
  SANDBOX_MERCHANT_ID: Type.String({
    minLength: 1,
    default: 'lectern-sandbox',
    description: 'Merchant id the sandbox writes into its notifications',
  }),
  SANDBOX_PAY_URL: Type.String({
    minLength: 1,
    default: '/api/v1/sandbox/pay',
    description: 'Base of the sandbox pay page; the payment id is appended (a path: under PUBLIC_URL)',
  }),
  PAYMENT_NOTIFY_TOLERANCE_SECONDS: Type.Integer({
    minimum: 30,
    maximum: 3600,
    default: 300,
    description: 'How far a signed notification timestamp may be from now (sandbox, WeChat Pay, Stripe)',
  }),

  ALIPAY_APP_ID: optionalText('Alipay open-platform app id; set with the two keys to turn Alipay on'),
  ALIPAY_PRIVATE_KEY: optionalText('Alipay app private key (RSA2), PEM or base64 PKCS#1/PKCS#8', true),
  ALIPAY_PUBLIC_KEY: optionalText('Alipay public key (not the app public key), PEM or base64'),
  ALIPAY_SELLER_ID: optionalText(
    'Alipay seller id (2088…); when set, notifications for another seller are refused',
  ),
  ALIPAY_GATEWAY: Type.String({
    minLength: 1,
    default: 'https://openapi.alipay.com/gateway.do',
    description: 'Alipay gateway (the sandbox one is https://openapi-sandbox.dl.alipaydev.com/gateway.do)',
  }),
  ALIPAY_PRODUCT: Type.Union([Type.Literal('page'), Type.Literal('qr')], {
    default: 'page',
    description: 'page: redirect to the Alipay cashier page; qr: a QR code from alipay.trade.precreate',
  }),

  WECHATPAY_APP_ID: optionalText(
    'WeChat Pay appid bound to the merchant; set with the other WECHATPAY_ values',
  ),
  WECHATPAY_MCH_ID: optionalText('WeChat Pay merchant id (mchid)'),
  WECHATPAY_MCH_SERIAL: optionalText('Serial number of the merchant API certificate'),
  WECHATPAY_PRIVATE_KEY: optionalText('Merchant API private key, PEM or base64 PKCS#8', true),
  WECHATPAY_API_V3_KEY: Type.Optional(
    Type.String({ minLength: 32, maxLength: 32, secret: true, description: 'APIv3 key (32 characters)' }),
  ),
  WECHATPAY_PLATFORM_SERIAL: optionalText(
    'Serial (or PUB_KEY_ID_…) of the WeChat Pay key that signs answers',
  ),
  WECHATPAY_PLATFORM_PUBLIC_KEY: optionalText('WeChat Pay public key or platform certificate, PEM or base64'),
  WECHATPAY_BASE_URL: Type.String({
    minLength: 1,
    default: 'https://api.mch.weixin.qq.com',
    description: 'WeChat Pay API v3 base URL',
  }),

  STRIPE_SECRET_KEY: optionalText(
    'Stripe secret key (sk_… or rk_…); set with the webhook secret to turn cards on',
    true,
  ),
  STRIPE_WEBHOOK_SECRET: optionalText('Signing secret of the Stripe webhook endpoint (whsec_…)', true),
  STRIPE_API_URL: Type.String({
    minLength: 1,
    default: 'https://api.stripe.com',
    description: 'Stripe API base URL',
  }),
});
export type ProviderSettings = SettingsOf<typeof ProviderSettings>;
