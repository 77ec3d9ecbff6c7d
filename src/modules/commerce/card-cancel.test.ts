import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../platform/messaging/test-support.js';
import { type CommerceTest, startCommerce } from './commerce.test-support.js';
import { type FakeStripe, startFakeStripe } from './providers/card.test-support.js';

const SECRET_KEY = 'sk_test_51LecternFakeKey0000000000000000';

let t: CommerceTest;
let stripe: FakeStripe;
beforeAll(async () => {
  stripe = await startFakeStripe({ secretKey: SECRET_KEY });
  t = await startCommerce({
    env: {
      STRIPE_SECRET_KEY: SECRET_KEY,
      STRIPE_WEBHOOK_SECRET: 'whsec_lectern_test_0123456789abcdef',
      STRIPE_API_URL: stripe.url,
    },
    // Stripe calls go over the wire to the fake Stripe on 127.0.0.1
    deps: { transport: fetch },
  });
}, 60_000);
afterAll(async () => {
  await t.stop();
  await stripe.close();
});

const cardPayment = (provider = 'card') =>
  t.orderAndPayment({ provider, price: { amount: 4200, currency: 'USD' } });

const cancelsOf = (paymentId: string) =>
  stripe.verified.filter(
    (r) => r.path.endsWith('/cancel') && r.idempotencyKey === `lectern-cancel-${paymentId}`,
  );

const jobStates = async (paymentId: string) => {
  const rows = await sql<{ state: string }>`
    select state from pgboss.job
    where name = 'commerce.cancel-at-provider' and data->>'paymentId' = ${paymentId}`.execute(
    t.kit.app.platform.database.db,
  );
  return rows.rows.map((r) => r.state);
};

describe('card payments of closed orders are cancelled at Stripe', () => {
  it('a cancelled order’s PaymentIntent is cancelled once, by the job, and a retry of the job is harmless', async () => {
    const { orderId, paymentId } = await cardPayment();
    const intent = [...stripe.intents.values()].find((i) => i.metadata.paymentId === paymentId);
    expect(intent?.status).toBe('requires_payment_method');
    await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${orderId}/cancel`, { as: t.learner, body: {} });

    await waitFor(async () => (await jobStates(paymentId)).includes('completed'), 'the cancel job', 30_000);
    expect(await jobStates(paymentId)).toEqual(['completed']);
    expect(cancelsOf(paymentId)).toHaveLength(1);
    expect(intent?.status).toBe('canceled');

    // a retry after a lost answer: the same idempotency key, no error, still cancelled
    await t.runJob('commerce.cancel-at-provider', { paymentId });
    expect(new Set(cancelsOf(paymentId).map((r) => r.idempotencyKey)).size).toBe(1);
    expect(intent?.status).toBe('canceled');
  });

  it('an expired order’s PaymentIntent is cancelled too; one already cancelled at Stripe counts as done', async () => {
    const { paymentId } = await cardPayment();
    t.clock.advance(31 * 60);
    await t.runJob('commerce.expire-orders', {});
    t.clock.advance(-31 * 60);
    await waitFor(async () => (await jobStates(paymentId)).includes('completed'), 'the cancel job', 30_000);
    expect(cancelsOf(paymentId)).toHaveLength(1);

    // cancelled at Stripe by someone else before the job ran (a new key, so Stripe refuses it)
    const other = await cardPayment();
    const otherIntent = [...stripe.intents.values()].find((i) => i.metadata.paymentId === other.paymentId);
    if (otherIntent) otherIntent.status = 'canceled';
    await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${other.orderId}/cancel`, {
      as: t.learner,
      body: {},
    });
    await waitFor(
      async () => (await jobStates(other.paymentId)).includes('completed'),
      'the cancel job',
      30_000,
    );
    expect(await jobStates(other.paymentId)).toEqual(['completed']);
  });

  it('sends no cancel job for a sandbox payment', async () => {
    const { orderId, paymentId } = await cardPayment('sandbox');
    await t.kit.expectStatus(200, 'POST', `/api/v1/orders/${orderId}/cancel`, { as: t.learner, body: {} });
    expect(await jobStates(paymentId)).toEqual([]);
  });
});
