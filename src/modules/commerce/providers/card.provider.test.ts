import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestClock, epochSeconds } from '../../../platform/clock.js';
import { money } from '../../../platform/money.js';
import { createCardProvider } from './card.provider.js';
import { type FakeStripe, startFakeStripe, stripeEvent, stripeSignature } from './card.test-support.js';
import type { PaymentProvider } from './provider.js';
import { NotificationError, NotificationErrors, ProviderErrors } from './provider.errors.js';

const secretKey = 'sk_test_51LecternFakeKey0000000000000000';
const webhookSecret = 'whsec_lectern_test_0123456789abcdef';
const clock = createTestClock(new Date('2026-03-01T10:00:00Z'));

const make = (apiUrl = 'http://127.0.0.1:1', key = secretKey): PaymentProvider =>
  createCardProvider({
    secretKey: key,
    webhookSecret,
    apiUrl,
    toleranceSeconds: 300,
    clock,
    maxNetworkRetries: 0,
  });

const intent = (overrides: Record<string, unknown> = {}) => ({
  id: 'pi_3Lecternabc',
  object: 'payment_intent',
  amount: 1234,
  amount_received: 1234,
  currency: 'cny',
  status: 'succeeded',
  livemode: false,
  metadata: { paymentId: 'pay_0001', orderId: 'ord_1' },
  ...overrides,
});

const signed = (body: string, at = epochSeconds(clock()), secret = webhookSecret) => ({
  headers: { 'stripe-signature': stripeSignature(body, secret, at) },
  rawBody: Buffer.from(body),
});

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NotificationError);
  return (err as NotificationError).code;
}

describe('card (Stripe) webhooks', () => {
  const provider = make();

  it('accepts a signed payment_intent.succeeded and maps it', async () => {
    const event = stripeEvent('payment_intent.succeeded', intent(), { id: 'evt_1' });
    expect(await provider.verifyNotification(signed(JSON.stringify(event)))).toEqual({
      kind: 'payment.succeeded',
      notificationId: 'evt_1',
      paymentId: 'pay_0001',
      providerTxnId: 'pi_3Lecternabc',
      amount: { amount: 1234, currency: 'CNY' },
      merchant: 'stripe:test',
      occurredAt: new Date(1_772_359_200 * 1000),
    });
    const yen = stripeEvent(
      'payment_intent.succeeded',
      intent({ amount: 500, amount_received: 500, currency: 'jpy' }),
    );
    expect((await provider.verifyNotification(signed(JSON.stringify(yen)))).amount).toEqual({
      amount: 500,
      currency: 'JPY',
    });
    // a payment by a saved customer names them; a guest payment (above) names no payer
    const customer = stripeEvent('payment_intent.succeeded', intent({ customer: 'cus_Lectern42' }));
    expect((await provider.verifyNotification(signed(JSON.stringify(customer)))).payer).toBe('cus_Lectern42');
  });

  it('maps a cancelled intent and final refund states', async () => {
    const canceled = stripeEvent(
      'payment_intent.canceled',
      intent({ status: 'canceled', amount_received: 0 }),
    );
    expect(await provider.verifyNotification(signed(JSON.stringify(canceled)))).toMatchObject({
      kind: 'payment.closed',
      amount: { amount: 1234, currency: 'CNY' },
    });
    const refund = (status: string) => ({
      id: 're_1',
      object: 'refund',
      amount: 500,
      currency: 'cny',
      status,
      payment_intent: 'pi_3Lecternabc',
      metadata: { paymentId: 'pay_0001', refundId: 'ref_1' },
    });
    expect(
      await provider.verifyNotification(
        signed(JSON.stringify(stripeEvent('refund.updated', refund('succeeded')))),
      ),
    ).toMatchObject({
      kind: 'refund.succeeded',
      refundId: 'ref_1',
      paymentId: 'pay_0001',
      amount: { amount: 500, currency: 'CNY' },
    });
    expect(
      await provider.verifyNotification(
        signed(JSON.stringify(stripeEvent('refund.failed', refund('failed')))),
      ),
    ).toMatchObject({
      kind: 'refund.failed',
    });
    // a refund still pending and events we do not act on are told apart from forgeries
    for (const event of [
      stripeEvent('refund.updated', refund('pending')),
      stripeEvent('charge.succeeded', { id: 'ch_1' }),
    ]) {
      expect(await reasonOf(provider.verifyNotification(signed(JSON.stringify(event))))).toBe(
        NotificationErrors.unsupported,
      );
    }
  });

  it('rejects every single field tampered with, and another secret', async () => {
    const event = stripeEvent('payment_intent.succeeded', intent());
    const good = signed(JSON.stringify(event));
    const variants: unknown[] = [];
    for (const field of Object.keys(event))
      variants.push({
        ...event,
        [field]:
          field === 'livemode' ? true : `${JSON.stringify((event as Record<string, unknown>)[field])}x`,
      });
    for (const [field, value] of Object.entries(intent())) {
      variants.push({
        ...event,
        data: {
          object: {
            ...intent(),
            [field]: typeof value === 'number' ? value + 1 : `${JSON.stringify(value)}x`,
          },
        },
      });
    }
    for (const variant of variants) {
      const body = JSON.stringify(variant);
      expect(
        await reasonOf(provider.verifyNotification({ headers: good.headers, rawBody: Buffer.from(body) })),
        body,
      ).toBe(NotificationErrors.badSignature);
    }
    expect(
      await reasonOf(
        provider.verifyNotification(signed(JSON.stringify(event), undefined, 'whsec_someone_else')),
      ),
    ).toBe(NotificationErrors.badSignature);
  });

  it('rejects a live-mode event for a test-mode key', async () => {
    const live = stripeEvent('payment_intent.succeeded', intent(), { livemode: true });
    expect(await reasonOf(provider.verifyNotification(signed(JSON.stringify(live))))).toBe(
      NotificationErrors.wrongMerchant,
    );
  });

  it('accepts a timestamp within five minutes and rejects one outside, either way', async () => {
    const body = JSON.stringify(stripeEvent('payment_intent.succeeded', intent()));
    const now = epochSeconds(clock());
    await expect(provider.verifyNotification(signed(body, now - 299))).resolves.toMatchObject({
      kind: 'payment.succeeded',
    });
    await expect(provider.verifyNotification(signed(body, now + 299))).resolves.toMatchObject({
      kind: 'payment.succeeded',
    });
    expect(await reasonOf(provider.verifyNotification(signed(body, now - 301)))).toBe(
      NotificationErrors.stale,
    );
    expect(await reasonOf(provider.verifyNotification(signed(body, now + 301)))).toBe(
      NotificationErrors.stale,
    );
  });

  it('turns empty, truncated, non-JSON and odd webhooks into NotificationError', async () => {
    const body = JSON.stringify(stripeEvent('payment_intent.succeeded', intent()));
    for (const text of [
      '',
      body.slice(0, 50),
      'not json',
      '[]',
      '{"id":"evt_1"}',
      JSON.stringify(stripeEvent('payment_intent.succeeded', intent({ amount_received: 12.34 }))),
      JSON.stringify(stripeEvent('payment_intent.succeeded', intent({ currency: 'abc' }))),
    ]) {
      expect(await reasonOf(provider.verifyNotification(signed(text))), text).toBe(
        NotificationErrors.malformed,
      );
    }
    expect(
      await reasonOf(
        provider.verifyNotification({
          headers: signed(body).headers,
          rawBody: Buffer.from(body.slice(0, 50)),
        }),
      ),
    ).toBe(NotificationErrors.badSignature);
    for (const header of [undefined, '', 'v1=abc', 't=abc,v1=def', `t=${epochSeconds(clock())}`]) {
      await expect(
        provider.verifyNotification({ headers: { 'stripe-signature': header }, rawBody: Buffer.from(body) }),
      ).rejects.toBeInstanceOf(NotificationError);
    }
  });
});

describe('card (Stripe) API calls', () => {
  let fake: FakeStripe;
  let provider: PaymentProvider;
  beforeAll(async () => {
    fake = await startFakeStripe({ secretKey });
    provider = make(fake.url);
  });
  afterAll(() => fake.close());

  it('creates a PaymentIntent for the client to confirm, then queries and refunds it', async () => {
    const input = {
      paymentId: 'pay_card_1',
      orderId: 'ord_9',
      amount: money(1999, 'USD'),
      subject: 'Designing Data-Intensive Apps',
      notifyUrl: 'https://lectern.example/api/v1/commerce/notify/card',
      expiresAt: new Date('2026-03-01T10:15:00Z'),
    };
    const created = await provider.createPayment(input);
    const pi = [...fake.intents.values()].at(-1)!;
    expect(created).toEqual({
      providerRef: pi.id,
      action: { kind: 'client_secret', clientSecret: pi.client_secret },
    });
    const sent = fake.verified.at(-1)!;
    expect(sent.params).toMatchObject({
      amount: '1999',
      currency: 'usd',
      'metadata[paymentId]': 'pay_card_1',
      'metadata[orderId]': 'ord_9',
      'automatic_payment_methods[enabled]': 'true',
    });
    expect(sent.idempotencyKey).toBe('lectern-payment-pay_card_1');
    // the same payment created again is the same PaymentIntent
    expect(await provider.createPayment(input)).toEqual(created);

    const ref = { paymentId: 'pay_card_1', providerRef: pi.id };
    expect(await provider.query(ref)).toEqual({
      status: 'pending',
      amount: { amount: 1999, currency: 'USD' },
      providerTxnId: pi.id,
    });
    pi.status = 'succeeded';
    pi.amount_received = 1999;
    expect(await provider.query(ref)).toMatchObject({
      status: 'succeeded',
      amount: { amount: 1999, currency: 'USD' },
    });
    expect(await provider.query({ paymentId: 'pay_x', providerRef: 'pi_missing' })).toEqual({
      status: 'unknown',
    });
    await expect(provider.query({ paymentId: 'pay_other', providerRef: pi.id })).rejects.toMatchObject({
      code: ProviderErrors.unavailable,
    });
    await expect(provider.query({ paymentId: 'pay_card_1' })).rejects.toMatchObject({
      code: ProviderErrors.missingReference,
    });

    const refund = {
      ...ref,
      refundId: 'ref_1',
      amount: money(500, 'USD'),
      total: input.amount,
      reason: 'changed my mind',
    };
    expect(await provider.refund(refund)).toEqual({
      providerRefundId: expect.stringMatching(/^re_/),
      status: 'succeeded',
    });
    expect(fake.verified.at(-1)).toMatchObject({
      path: '/v1/refunds',
      idempotencyKey: 'lectern-refund-ref_1',
      params: {
        payment_intent: pi.id,
        amount: '500',
        'metadata[refundId]': 'ref_1',
        'metadata[reason]': 'changed my mind',
      },
    });
    await expect(
      provider.refund({ ...refund, refundId: 'ref_2', amount: money(1500, 'USD') }),
    ).rejects.toMatchObject({
      code: ProviderErrors.rejected,
      providerCode: 'amount_too_large',
    });
  });

  it('reports a key Stripe does not take, and an API it cannot reach, as unavailable', async () => {
    await expect(
      make(fake.url, 'sk_test_wrong').query({ paymentId: 'p', providerRef: 'pi_1' }),
    ).rejects.toMatchObject({
      code: ProviderErrors.unavailable,
    });
    await expect(
      make('http://127.0.0.1:1').query({ paymentId: 'p', providerRef: 'pi_1' }),
    ).rejects.toMatchObject({
      code: ProviderErrors.unavailable,
    });
  });
});
