import { createHmac, randomBytes } from 'node:crypto';
import { type FakeServer, type ReceivedRequest, startFakeServer } from './fake-server.test-support.js';

/**
 * Stripe as its servers behave, for tests: webhook events signed the way Stripe signs them
 * (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, written out here rather
 * than taken from the SDK under test), and an API on 127.0.0.1 for PaymentIntents and refunds
 * that checks the secret key and honours Idempotency-Key.
 */

export function stripeSignature(body: string, secret: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  overrides: Record<string, unknown> = {},
) {
  return {
    id: `evt_${randomBytes(12).toString('hex')}`,
    object: 'event',
    api_version: '2026-10-28.endive',
    created: 1_772_359_200,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    ...overrides,
  };
}

type Params = Record<string, string>;

interface FakeIntent {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_received: number;
  currency: string;
  status: string;
  client_secret: string;
  description: string | null;
  livemode: false;
  metadata: Record<string, string>;
}

export interface FakeStripe extends FakeServer {
  intents: Map<string, FakeIntent>;
  /** Authorised requests with their form parameters and Idempotency-Key. */
  verified: { method: string; path: string; params: Params; idempotencyKey?: string }[];
}

const metadataOf = (params: Params): Record<string, string> =>
  Object.fromEntries(
    Object.entries(params)
      .filter(([k]) => k.startsWith('metadata['))
      .map(([k, v]) => [k.slice('metadata['.length, -1), v]),
  );

export async function startFakeStripe(options: { secretKey: string }): Promise<FakeStripe> {
  const intents = new Map<string, FakeIntent>();
  const refunds = new Map<string, { amount: number; intent: string }>();
  const verified: FakeStripe['verified'] = [];
  const replays = new Map<string, { params: string; answer: { status: number; body: string } }>();

  const json = (status: number, body: unknown) => ({
    status,
    headers: { 'content-type': 'application/json', 'request-id': `req_${randomBytes(6).toString('hex')}` },
    body: JSON.stringify(body),
  });
  const error = (status: number, type: string, code: string, message: string) =>
    json(status, { error: { type, code, message } });

  function handle(request: ReceivedRequest) {
    if (request.headers.authorization !== `Bearer ${options.secretKey}`) {
      return error(401, 'invalid_request_error', 'api_key_invalid', 'Invalid API Key provided');
    }
    const url = new URL(request.url, 'http://fake');
    const raw = request.body.toString('utf8');
    const params: Params = Object.fromEntries(new URLSearchParams(raw));
    const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
    verified.push({
      method: request.method,
      path: url.pathname,
      params,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    if (request.method === 'POST' && idempotencyKey) {
      const seen = replays.get(idempotencyKey);
      if (seen) {
        if (seen.params !== raw)
          return error(
            400,
            'idempotency_error',
            'idempotency_key_in_use',
            'Keys for idempotent requests can only be used with the same parameters',
          );
        return { ...json(200, {}), ...seen.answer };
      }
    }
    const answer = route(request.method, url.pathname, params);
    if (request.method === 'POST' && idempotencyKey) replays.set(idempotencyKey, { params: raw, answer });
    return answer;
  }

  function route(method: string, path: string, params: Params) {
    if (method === 'POST' && path === '/v1/payment_intents') {
      const id = `pi_${randomBytes(12).toString('hex')}`;
      const intent: FakeIntent = {
        id,
        object: 'payment_intent',
        amount: Number(params.amount),
        amount_received: 0,
        currency: params.currency ?? '',
        status: 'requires_payment_method',
        client_secret: `${id}_secret_${randomBytes(8).toString('hex')}`,
        description: params.description ?? null,
        livemode: false,
        metadata: metadataOf(params),
      };
      intents.set(id, intent);
      return json(200, intent);
    }
    const retrieved = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && retrieved?.[1]) {
      const intent = intents.get(retrieved[1]);
      return intent
        ? json(200, intent)
        : error(
            404,
            'invalid_request_error',
            'resource_missing',
            `No such payment_intent: '${retrieved[1]}'`,
          );
    }
    const cancelled = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(path);
    if (method === 'POST' && cancelled?.[1]) {
      const intent = intents.get(cancelled[1]);
      if (!intent) return error(404, 'invalid_request_error', 'resource_missing', 'No such payment_intent');
      if (intent.status === 'succeeded' || intent.status === 'canceled')
        return error(
          400,
          'invalid_request_error',
          'payment_intent_unexpected_state',
          `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
        );
      intent.status = 'canceled';
      return json(200, { ...intent, cancellation_reason: params.cancellation_reason ?? null });
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const intent = intents.get(params.payment_intent ?? '');
      if (!intent) return error(404, 'invalid_request_error', 'resource_missing', 'No such payment_intent');
      if (intent.status !== 'succeeded')
        return error(
          400,
          'invalid_request_error',
          'charge_not_refundable',
          'This PaymentIntent has no successful charge to refund',
        );
      const amount = Number(params.amount ?? intent.amount_received);
      const done = [...refunds.values()]
        .filter((r) => r.intent === intent.id)
        .reduce((s, r) => s + r.amount, 0);
      if (done + amount > intent.amount_received)
        return error(
          400,
          'invalid_request_error',
          'amount_too_large',
          'Refund amount is greater than unrefunded amount',
        );
      const id = `re_${randomBytes(12).toString('hex')}`;
      refunds.set(id, { amount, intent: intent.id });
      return json(200, {
        id,
        object: 'refund',
        amount,
        currency: intent.currency,
        payment_intent: intent.id,
        reason: params.reason ?? null,
        status: 'succeeded',
        metadata: metadataOf(params),
      });
    }
    return error(
      404,
      'invalid_request_error',
      'resource_missing',
      `Unrecognized request URL (${method}: ${path})`,
    );
  }

  const server = await startFakeServer(handle);
  return { ...server, intents, verified };
}
