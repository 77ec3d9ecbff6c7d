import { randomBytes } from 'node:crypto';
import type { Clock } from '../../../platform/clock.js';
import { createAlipayProvider } from './alipay.provider.js';
import { createCardProvider } from './card.provider.js';
import { privatePem, publicPem, readPrivateKey, readPublicKey } from './keys.js';
import type { PaymentProvider, ProviderName, Transport } from './provider.js';
import { ProviderConfigError } from './provider.errors.js';
import type { ProviderSettings } from './providers.settings.js';
import { createSandboxProvider, type SandboxProvider } from './sandbox.provider.js';
import type { SandboxStore } from './sandbox.store.js';
import { createWechatPayProvider } from './wechatpay.provider.js';

/** The providers this deployment can take payments with; the sandbox is always there. */
export interface PaymentProviders {
  readonly sandbox: SandboxProvider;
  /** In a fixed order: sandbox, alipay, wechatpay, card. */
  readonly names: readonly ProviderName[];
  get(name: ProviderName): PaymentProvider | undefined;
  /** True when SANDBOX_NOTIFY_SECRET was unset and a random one is used (one instance only). */
  readonly sandboxSecretGenerated: boolean;
}

export interface ProviderDeps {
  fetch?: Transport;
  clock?: Clock;
  /** Where sandbox payments live; in memory when not given. */
  sandboxStore?: SandboxStore;
}

type Settings = ProviderSettings;

/**
 * The values of one provider: all of them, none of them (provider off), or a ProviderConfigError
 * naming the missing ones, so half a configuration stops the start-up instead of failing a payment.
 */
function group<K extends keyof Settings>(settings: Settings, provider: string, names: readonly K[]) {
  const missing = names.filter((n) => settings[n] === undefined);
  if (missing.length === names.length) return undefined;
  if (missing.length > 0) {
    throw new ProviderConfigError(
      `${provider} is half configured: set ${missing.join(', ')} too, or unset the others`,
    );
  }
  return settings as Settings & Required<Pick<Settings, K>>;
}

export function createProviders(settings: Settings, deps: ProviderDeps = {}): PaymentProviders {
  const common = {
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
  const tolerance = settings.PAYMENT_NOTIFY_TOLERANCE_SECONDS;
  const generated = settings.SANDBOX_NOTIFY_SECRET === undefined;
  const sandbox = createSandboxProvider({
    secret: settings.SANDBOX_NOTIFY_SECRET ?? randomBytes(32).toString('base64url'),
    merchant: settings.SANDBOX_MERCHANT_ID,
    payUrl: settings.SANDBOX_PAY_URL,
    toleranceSeconds: tolerance,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.sandboxStore ? { store: deps.sandboxStore } : {}),
  });
  const providers = new Map<ProviderName, PaymentProvider>([['sandbox', sandbox]]);

  const alipay = group(settings, 'Alipay', [
    'ALIPAY_APP_ID',
    'ALIPAY_PRIVATE_KEY',
    'ALIPAY_PUBLIC_KEY',
  ] as const);
  if (alipay) {
    providers.set(
      'alipay',
      createAlipayProvider({
        appId: alipay.ALIPAY_APP_ID,
        privateKey: privatePem(readPrivateKey('ALIPAY_PRIVATE_KEY', alipay.ALIPAY_PRIVATE_KEY)),
        alipayPublicKey: publicPem(readPublicKey('ALIPAY_PUBLIC_KEY', alipay.ALIPAY_PUBLIC_KEY)),
        ...(alipay.ALIPAY_SELLER_ID ? { sellerId: alipay.ALIPAY_SELLER_ID } : {}),
        gateway: alipay.ALIPAY_GATEWAY,
        product: alipay.ALIPAY_PRODUCT,
        ...common,
      }),
    );
  }

  const wechat = group(settings, 'WeChat Pay', [
    'WECHATPAY_APP_ID',
    'WECHATPAY_MCH_ID',
    'WECHATPAY_MCH_SERIAL',
    'WECHATPAY_PRIVATE_KEY',
    'WECHATPAY_API_V3_KEY',
    'WECHATPAY_PLATFORM_SERIAL',
    'WECHATPAY_PLATFORM_PUBLIC_KEY',
  ] as const);
  if (wechat) {
    providers.set(
      'wechatpay',
      createWechatPayProvider({
        appId: wechat.WECHATPAY_APP_ID,
        mchId: wechat.WECHATPAY_MCH_ID,
        mchSerial: wechat.WECHATPAY_MCH_SERIAL,
        mchPrivateKey: readPrivateKey('WECHATPAY_PRIVATE_KEY', wechat.WECHATPAY_PRIVATE_KEY),
        apiV3Key: wechat.WECHATPAY_API_V3_KEY,
        platformSerial: wechat.WECHATPAY_PLATFORM_SERIAL,
        platformPublicKey: readPublicKey(
          'WECHATPAY_PLATFORM_PUBLIC_KEY',
          wechat.WECHATPAY_PLATFORM_PUBLIC_KEY,
        ),
        baseUrl: wechat.WECHATPAY_BASE_URL,
        toleranceSeconds: tolerance,
        ...common,
      }),
    );
  }

  const card = group(settings, 'Stripe', ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'] as const);
  if (card) {
    providers.set(
      'card',
      createCardProvider({
        secretKey: card.STRIPE_SECRET_KEY,
        webhookSecret: card.STRIPE_WEBHOOK_SECRET,
        apiUrl: card.STRIPE_API_URL,
        toleranceSeconds: tolerance,
        ...common,
      }),
    );
  }

  return {
    sandbox,
    names: [...providers.keys()],
    get: (name) => providers.get(name),
    sandboxSecretGenerated: generated,
  };
}
