import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/schemas.js';
import { notificationHeaders } from './providers/notification-parsing.js';
import type { NotificationsService } from './notifications.service.js';
import {
  OrderPaymentParams,
  Payment,
  type PaymentView,
  PaymentParams,
  QueryAnswer,
  SandboxPayAnswer,
  SandboxPayBody,
  StartPaymentBody,
} from './payments.schemas.js';
import type { PaymentsService } from './payments.service.js';
import { NotificationErrors } from './providers/provider.errors.js';
import type { PaymentProviders } from './providers/providers.js';
import { rolesFor } from './permissions.js';
import { bearer, requireActor, type RouteSet } from './routes.common.js';
import { AppError } from '../../platform/errors.js';
import { PROVIDER_NAMES } from './tables.js';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function paymentsRoutes(
  payments: PaymentsService,
  notifications: NotificationsService,
  providers: PaymentProviders,
): RouteSet {
  return (app, { auth, idempotency }) => {
    const user = auth.require();
    const admin = auth.require({ roles: rolesFor('orders:manage-any') });

    app.post(
      '/orders/:id/payments',
      {
        preHandler: [user, idempotency.guard()],
        schema: {
          tags: ['commerce'],
          summary: 'Start paying a pending order with a provider; answers what the payer does next',
          description:
            'The action is a pay URL (sandbox, Alipay page), a QR code URL (Alipay QR, WeChat Pay Native) or a Stripe client secret. Nothing is granted until the provider’s notification arrives. Send an Idempotency-Key to retry safely.',
          security: bearer,
          params: OrderPaymentParams,
          body: StartPaymentBody,
          response: { 201: Payment, ...errorResponses(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request, reply) => {
        const view = await payments.start(
          requireActor(request),
          request.params.id,
          request.body.provider,
          idempotency.completeInTransaction<PaymentView>(request, { status: 201 }),
        );
        return reply.status(201).send(view);
      },
    );

    app.post(
      '/admin/payments/:paymentId/query',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Ask the provider about a payment; a paid one settles its pending order (admin)',
          security: bearer,
          params: PaymentParams,
          response: { 200: QueryAnswer, ...errorResponses(400, 401, 403, 404, 409, 503) },
        },
      },
      (request) => payments.query(requireActor(request), request.params.paymentId),
    );

    for (const name of PROVIDER_NAMES) {
      app.post(
        `/payments/notify/${name}`,
        {
          config: { rawBody: true },
          schema: {
            tags: ['commerce'],
            summary: `Asynchronous payment notification from ${name} (signed; no token)`,
            description:
              'Verified with the provider’s signature over the exact bytes, recorded once per notification id and checked against the payment and order in one transaction; answered the way the provider expects only after that commit. A refused notification is a 4xx problem+json, so the provider sends it again.',
            response: {
              200: Type.Unknown({ description: 'The acknowledgement the provider expects' }),
              204: Type.Null(),
              ...errorResponses(400, 401, 404, 503),
            },
          },
        },
        async (request, reply) => {
          const provider = providers.get(name);
          if (!provider) {
            throw AppError.notFound(
              'commerce.provider-not-configured',
              `Payments with ${name} are not set up here.`,
            );
          }
          const rawBody = request.rawBody ?? Buffer.alloc(0);
          const form =
            request.headers['content-type']?.startsWith('application/x-www-form-urlencoded') &&
            typeof request.body === 'object' &&
            request.body !== null
              ? (request.body as Record<string, string>)
              : undefined;
          let verified;
          try {
            verified = await provider.verifyNotification({
              headers: notificationHeaders(request.headers),
              rawBody,
              ...(form ? { form } : {}),
            });
          } catch (err) {
            // genuine, but an event we do not act on: acknowledge so the provider stops sending it
            if (err instanceof AppError && err.code === NotificationErrors.unsupported) {
              const ack = provider.acknowledge('ok');
              return reply
                .status(ack.status as 200) // the provider decides the status; the schema documents each
                .type(ack.contentType)
                .send(ack.body === '' ? null : ack.body);
            }
            throw err;
          }
          try {
            const result = await notifications.handle(name, verified);
            request.log.info(
              { provider: name, outcome: result.outcome, flag: result.flagReason },
              'payment notification',
            );
          } catch (err) {
            request.log.error({ err, provider: name }, 'payment notification could not be recorded');
            const ack = provider.acknowledge('retry');
            return reply
              .status(ack.status as 200) // the provider decides the status; the schema documents each
              .type(ack.contentType)
              .send(ack.body);
          }
          const ack = provider.acknowledge('ok');
          return reply
            .status(ack.status as 200) // the provider decides the status; the schema documents each
            .type(ack.contentType)
            .send(ack.status === 204 ? null : ack.body);
        },
      );
    }

    app.get(
      '/sandbox/pay/:paymentId',
      {
        schema: {
          tags: ['commerce'],
          summary: 'The sandbox pay page: what a payer would see (no token; the payment id is the secret)',
          params: PaymentParams,
          produces: ['text/html'],
          response: { 200: Type.String(), ...errorResponses(400, 404) },
        },
      },
      async (request, reply) => {
        const { payment, orderStatus } = await payments.sandboxPayment(request.params.paymentId);
        const id = escapeHtml(payment.id);
        const html = `<!doctype html><html><head><meta charset="utf-8"><title>Sandbox payment</title></head><body>
<h1>Sandbox payment</h1>
<p>Payment <code>${id}</code> for order <code>${escapeHtml(payment.orderId)}</code>: ${payment.amount.amount} ${escapeHtml(payment.amount.currency)} (minor units).</p>
<p>Payment status: <b>${escapeHtml(payment.status)}</b>; order status: <b>${escapeHtml(orderStatus)}</b>.</p>
<p>Pay as the sandbox payer:</p>
<pre>curl -X POST ${escapeHtml(request.protocol)}://${escapeHtml(request.host)}/api/v1/sandbox/pay/${id} -H 'content-type: application/json' -d '{"action":"pay"}'</pre>
<p>Options: <code>"action":"close"</code>, <code>"amount":1</code> (a wrong amount), <code>"duplicates":3</code>, <code>"delaySeconds":30</code>.</p>
</body></html>`;
        return reply.type('text/html; charset=utf-8').send(html);
      },
    );

    app.post(
      '/sandbox/pay/:paymentId',
      {
        schema: {
          tags: ['commerce'],
          summary: 'Act as the sandbox payer: pay (or close) and have the signed notification sent',
          description:
            'Posts the signed notification to the notify endpoint exactly as a real provider would, optionally several times and later (through a job).',
          params: PaymentParams,
          body: SandboxPayBody,
          response: { 200: SandboxPayAnswer, ...errorResponses(400, 404, 409) },
        },
      },
      (request) => payments.sandboxPay(request.params.paymentId, request.body),
    );
  };
}
