import type Stripe from 'stripe';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { type Clock, epochSeconds, systemClock } from '../../../platform/clock.js';
import { malformed, notifiedMoney } from './notification-parsing.js';
import type {
  Acknowledgement,
  CreatePaymentInput,
  NotificationInput,
  PaymentProvider,
  PaymentRef,
  ProviderPaymentState,
  RefundInput,
  RefundResult,
  Transport,
  VerifiedNotification,
} from './provider.js';
import { NotificationError, NotificationErrors, ProviderError, ProviderErrors } from './provider.errors.js';

/**
 * Card payments through Stripe's official SDK: a PaymentIntent whose client secret the front end
 * confirms with Stripe.js, so card data goes from the payer's browser to Stripe and never
 * through Lectern. Webhooks are checked with the SDK's `constructEvent`. Stripe amounts are in
 * the currency's smallest unit, which is our minor unit (ISO 4217) for the currencies Stripe
 * supports, so they pass through unchanged.
 */
export interface CardOptions {
  secretKey: string;
  webhookSecret: string;
  /** Stripe API base URL; tests point it at a local fake. */
  apiUrl: string;
  toleranceSeconds: number;
  fetch?: Transport;
  clock?: Clock;
  /** Stripe retries idempotent calls itself; tests that talk to nothing set 0. */
  maxNetworkRetries?: number;
}

const PaymentIntentShape = Type.Object({
  id: Type.String({ minLength: 1 }),
  object: Type.Literal('payment_intent'),
  amount: Type.Integer({ minimum: 0 }),
  amount_received: Type.Integer({ minimum: 0 }),
  currency: Type.String({ minLength: 3, maxLength: 3 }),
  status: Type.String(),
  metadata: Type.Object({ paymentId: Type.String({ minLength: 1 }) }),
  /** A customer id, null, or the customer object when expanded. */
  customer: Type.Optional(Type.Unknown()),
});

/** The Stripe customer id of a PaymentIntent, if it has one (guest card payments have none). */
const customerOf = (intent: { customer?: unknown }): { payer: string } | Record<string, never> => {
  const c = intent.customer;
  if (typeof c === 'string' && c !== '') return { payer: c };
  if (typeof c === 'object' && c !== null && 'id' in c && typeof c.id === 'string') return { payer: c.id };
  return {};
};

const RefundShape = Type.Object({
  id: Type.String({ minLength: 1 }),
  object: Type.Literal('refund'),
  amount: Type.Integer({ minimum: 0 }),
  currency: Type.String({ minLength: 3, maxLength: 3 }),
  status: Type.Union([Type.String(), Type.Null()]),
  payment_intent: Type.String({ minLength: 1 }),
  metadata: Type.Object({
    paymentId: Type.String({ minLength: 1 }),
    refundId: Type.String({ minLength: 1 }),
  }),
});

const EventShape = Type.Object({
  id: Type.String({ minLength: 1 }),
  type: Type.String(),
  created: Type.Integer({ minimum: 0 }),
  livemode: Type.Boolean(),
  account: Type.Optional(Type.String()),
  data: Type.Object({ object: Type.Object({}) }),
});

const PAYMENT_EVENTS = new Set(['payment_intent.succeeded', 'payment_intent.canceled']);
const REFUND_EVENTS = new Set(['refund.updated', 'refund.failed', 'charge.refund.updated']);

const isLiveKey = (key: string): boolean => /^(sk|rk)_live_/.test(key);

export function createCardProvider(options: CardOptions): PaymentProvider {
  const clock = options.clock ?? systemClock;
  const api = new URL(options.apiUrl);
  const live = isLiveKey(options.secretKey);
  // the SDK is 3 MB of heap and RSS beside our other packages (21 MB alone): it is loaded at the
  // first call that needs it, so a process that never meets a card payment never carries it
  let client: Promise<{ SDK: typeof Stripe; stripe: Stripe }> | undefined;

  /** The SDK and our client of it; a failed import is a Stripe that cannot be asked (503). */
  async function loaded(what: string) {
    client ??= import('stripe').then(({ default: SDK }) => ({
      SDK,
      stripe: new SDK(options.secretKey, {
        httpClient: SDK.createFetchHttpClient(options.fetch ?? fetch),
        host: api.hostname,
        port: api.port || (api.protocol === 'http:' ? 80 : 443),
        protocol: api.protocol === 'http:' ? 'http' : 'https',
        maxNetworkRetries: options.maxNetworkRetries ?? 2,
        telemetry: false,
      }),
    }));
    try {
      return await client;
    } catch (err) {
      client = undefined;
      throw new ProviderError(ProviderErrors.unavailable, `Stripe ${what} failed: ${(err as Error).message}`);
    }
  }

  /** Stripe's own errors to ours: 4xx is a refusal, anything else means Stripe could not be asked. */
  function failed(SDK: typeof Stripe, what: string, err: unknown): ProviderError {
    if (err instanceof ProviderError) return err;
    // 401: Stripe does not take our key, a configuration fault rather than a refusal of this request
    if (
      err instanceof SDK.errors.StripeError &&
      err.statusCode !== undefined &&
      err.statusCode < 500 &&
      err.statusCode !== 401
    ) {
      return new ProviderError(
        ProviderErrors.rejected,
        `Stripe ${what} refused: ${err.message}`,
        err.code ?? err.type,
      );
    }
    return new ProviderError(ProviderErrors.unavailable, `Stripe ${what} failed: ${(err as Error).message}`);
  }

  const needRef = (ref: PaymentRef): string => {
    if (!ref.providerRef) {
      throw new ProviderError(
        ProviderErrors.missingReference,
        'Stripe needs the PaymentIntent id (providerRef)',
      );
    }
    return ref.providerRef;
  };

  async function verify(input: NotificationInput): Promise<VerifiedNotification> {
    const header = input.headers['stripe-signature'];
    if (!header) throw malformed('header stripe-signature is missing');
    const signedAt = /(?:^|,)t=(\d{1,12})(?:,|$)/.exec(header)?.[1];
    if (!signedAt) throw malformed('header stripe-signature has no timestamp');
    const { SDK, stripe } = await loaded('webhook check');
    const now = epochSeconds(clock());
    let event: unknown;
    try {
      event = stripe.webhooks.constructEvent(
        input.rawBody,
        header,
        options.webhookSecret,
        options.toleranceSeconds,
        undefined,
        clock().getTime(),
      );
    } catch (err) {
      if (err instanceof SDK.errors.StripeSignatureVerificationError) {
        const stale = /tolerance/i.test(err.message);
        throw new NotificationError(
          stale ? NotificationErrors.stale : NotificationErrors.badSignature,
          `Stripe webhook: ${stale ? 'timestamp is outside the window' : 'signature does not match'}`,
        );
      }
      // a signed body that is not JSON
      throw malformed('Stripe webhook body is not JSON');
    }
    // the SDK only refuses old timestamps; one from the future is as suspicious
    if (Number(signedAt) - now > options.toleranceSeconds) {
      throw new NotificationError(NotificationErrors.stale, 'Stripe webhook: timestamp is in the future');
    }
    if (!Value.Check(EventShape, event)) throw malformed('Stripe webhook is not an event');
    if (event.livemode !== live) {
      throw new NotificationError(
        NotificationErrors.wrongMerchant,
        'Stripe webhook is for the other mode (live/test)',
      );
    }
    const merchant = event.account ?? `stripe:${live ? 'live' : 'test'}`;
    const occurredAt = new Date(event.created * 1000);
    const object = event.data.object;
    if (PAYMENT_EVENTS.has(event.type)) {
      if (!Value.Check(PaymentIntentShape, object))
        throw malformed('Stripe webhook payment intent has an unexpected shape');
      const succeeded = event.type === 'payment_intent.succeeded';
      return {
        kind: succeeded ? 'payment.succeeded' : 'payment.closed',
        notificationId: event.id,
        paymentId: object.metadata.paymentId,
        providerTxnId: object.id,
        amount: notifiedMoney(
          succeeded ? object.amount_received : object.amount,
          object.currency.toUpperCase(),
        ),
        merchant,
        occurredAt,
        ...(succeeded ? customerOf(object) : {}),
      };
    }
    if (REFUND_EVENTS.has(event.type)) {
      if (!Value.Check(RefundShape, object)) throw malformed('Stripe webhook refund has an unexpected shape');
      const final =
        object.status === 'succeeded'
          ? 'refund.succeeded'
          : ['failed', 'canceled'].includes(object.status ?? '')
            ? 'refund.failed'
            : undefined;
      if (final) {
        return {
          kind: final,
          notificationId: event.id,
          paymentId: object.metadata.paymentId,
          providerTxnId: object.payment_intent,
          refundId: object.metadata.refundId,
          amount: notifiedMoney(object.amount, object.currency.toUpperCase()),
          merchant,
          occurredAt,
        };
      }
    }
    throw new NotificationError(
      NotificationErrors.unsupported,
      `Stripe event ${event.type} is not one we act on`,
    );
  }

  async function query(ref: PaymentRef): Promise<ProviderPaymentState> {
    const id = needRef(ref);
    const { SDK, stripe } = await loaded('query');
    let intent: unknown;
    try {
      intent = await stripe.paymentIntents.retrieve(id);
    } catch (err) {
      if (err instanceof SDK.errors.StripeInvalidRequestError && err.statusCode === 404)
        return { status: 'unknown' };
      throw failed(SDK, 'query', err);
    }
    if (!Value.Check(PaymentIntentShape, intent) || intent.metadata.paymentId !== ref.paymentId) {
      throw new ProviderError(ProviderErrors.unavailable, 'Stripe answered about another payment');
    }
    const status =
      intent.status === 'succeeded' ? 'succeeded' : intent.status === 'canceled' ? 'closed' : 'pending';
    const currency = intent.currency.toUpperCase();
    return {
      status,
      amount: notifiedMoney(status === 'succeeded' ? intent.amount_received : intent.amount, currency),
      providerTxnId: intent.id,
      ...customerOf(intent),
    };
  }

  return {
    name: 'card',

    async createPayment(input: CreatePaymentInput) {
      const { SDK, stripe } = await loaded('create payment');
      try {
        const intent = await stripe.paymentIntents.create(
          {
            amount: input.amount.amount,
            currency: input.amount.currency.toLowerCase(),
            description: input.subject,
            // which methods show is the Stripe account's payment method configuration (cards);
            // no redirects, and Alipay / WeChat Pay go through their own adapters
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            excluded_payment_method_types: ['alipay', 'wechat_pay'],
            metadata: { paymentId: input.paymentId, orderId: input.orderId },
          },
          { idempotencyKey: `lectern-payment-${input.paymentId}` },
        );
        if (!intent.client_secret)
          throw new ProviderError(ProviderErrors.unavailable, 'Stripe gave no client secret');
        return {
          providerRef: intent.id,
          action: { kind: 'client_secret', clientSecret: intent.client_secret },
        };
      } catch (err) {
        throw failed(SDK, 'create payment', err);
      }
    },

    verifyNotification(input: NotificationInput): Promise<VerifiedNotification> {
      return verify(input);
    },

    query,

    async cancel(ref: PaymentRef): Promise<void> {
      const id = needRef(ref);
      const { SDK, stripe } = await loaded('cancel');
      try {
        await stripe.paymentIntents.cancel(
          id,
          { cancellation_reason: 'abandoned' },
          { idempotencyKey: `lectern-cancel-${ref.paymentId}` },
        );
      } catch (err) {
        // cancelled already (an earlier try whose answer was lost) or paid meanwhile (the
        // notification flags that money for refund): either way nothing is left to cancel here
        if (
          err instanceof SDK.errors.StripeInvalidRequestError &&
          err.code === 'payment_intent_unexpected_state'
        ) {
          const state = await query(ref);
          if (state.status === 'closed' || state.status === 'succeeded') return;
        }
        throw failed(SDK, 'cancel', err);
      }
    },

    async refund(input: RefundInput): Promise<RefundResult> {
      const id = needRef(input);
      const { SDK, stripe } = await loaded('refund');
      let refund;
      try {
        refund = await stripe.refunds.create(
          {
            payment_intent: id,
            amount: input.amount.amount,
            reason: 'requested_by_customer',
            metadata: {
              paymentId: input.paymentId,
              refundId: input.refundId,
              ...(input.reason ? { reason: input.reason } : {}),
            },
          },
          { idempotencyKey: `lectern-refund-${input.refundId}` },
        );
      } catch (err) {
        throw failed(SDK, 'refund', err);
      }
      if (refund.status === 'succeeded') return { providerRefundId: refund.id, status: 'succeeded' };
      if (refund.status === 'pending' || refund.status === 'requires_action')
        return { providerRefundId: refund.id, status: 'pending' };
      throw new ProviderError(
        ProviderErrors.rejected,
        `Stripe refund is ${String(refund.status)}`,
        String(refund.status),
      );
    },

    acknowledge(outcome): Acknowledgement {
      // Stripe retries any non-2xx answer for up to three days
      return outcome === 'ok'
        ? { status: 200, contentType: 'application/json', body: '{"received":true}' }
        : { status: 503, contentType: 'application/json', body: '{"received":false}' };
    },
  };
}
