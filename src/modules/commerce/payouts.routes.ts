import { pageOf, PageQuery } from '../../platform/http/pagination.js';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import {
  AdminPayoutQuery,
  PaidBody,
  Payout,
  PayoutBalances,
  type PayoutView,
  RejectBody,
  RequestPayoutBody,
} from './payouts.schemas.js';
import type { PayoutsService } from './payouts.service.js';
import { rolesFor } from './permissions.js';
import { bearer, requireActor, type RouteSet } from './routes.common.js';

export function payoutsRoutes(payouts: PayoutsService): RouteSet {
  return (app, { auth, idempotency }) => {
    const instructor = auth.require({ roles: rolesFor('payouts:own') });
    const admin = auth.require({ roles: rolesFor('payouts:manage') });

    app.get(
      '/payouts/balance',
      {
        preHandler: [instructor],
        schema: {
          tags: ['commerce'],
          summary: 'My payout balance by currency: earned, pending, reserved, paid out, available',
          description:
            'A share of a sale becomes available once the refund window (COMMERCE_REFUND_WINDOW_DAYS) has passed since it was booked; refunds and payouts lower it at once, and requested payouts are reserved.',
          security: bearer,
          response: { 200: PayoutBalances, ...errorResponses(401, 403) },
        },
      },
      async (request) => {
        const { userId } = requireActor(request);
        return { instructorId: userId, ...(await payouts.balance(userId)) };
      },
    );

    app.post(
      '/payouts',
      {
        preHandler: [instructor, idempotency.guard()],
        schema: {
          tags: ['commerce'],
          summary: 'Ask for a payout of what is available to me',
          description:
            'Reserves the amount until an administrator pays or rejects it, or I cancel it. More than is available is refused (commerce.payout-exceeds-available). Send an Idempotency-Key to retry safely.',
          security: bearer,
          body: RequestPayoutBody,
          response: { 201: Payout, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request, reply) => {
        const view = await payouts.request(
          requireActor(request),
          request.body,
          idempotency.completeInTransaction<PayoutView>(request, { status: 201 }),
        );
        return reply.status(201).send(view);
      },
    );

    app.get(
      '/payouts',
      {
        preHandler: [instructor],
        schema: {
          tags: ['commerce'],
          summary: 'My payouts, newest first',
          security: bearer,
          querystring: PageQuery,
          response: { 200: pageOf(Payout), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => payouts.list({ instructorId: requireActor(request).userId }, request.query, false),
    );

    app.get(
      '/payouts/:id',
      {
        preHandler: [instructor],
        schema: {
          tags: ['commerce'],
          summary: 'One of my payouts with its history',
          security: bearer,
          params: IdParams,
          response: { 200: Payout, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => payouts.get(requireActor(request), request.params.id, false),
    );

    app.post(
      '/payouts/:id/cancel',
      {
        preHandler: [instructor, idempotency.guard()],
        schema: {
          tags: ['commerce'],
          summary: 'Cancel my payout while it is requested; its amount is available again',
          description:
            'Send an Idempotency-Key to retry safely: a retry answers the cancelled payout instead of commerce.payout-not-requested.',
          security: bearer,
          params: IdParams,
          response: { 200: Payout, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      (request) =>
        payouts.cancel(
          requireActor(request),
          request.params.id,
          idempotency.completeInTransaction<PayoutView>(request),
        ),
    );

    app.get(
      '/admin/payouts',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Every payout, newest first, optionally of one status (admin)',
          security: bearer,
          querystring: AdminPayoutQuery,
          response: { 200: pageOf(Payout), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => {
        requireActor(request);
        return payouts.list({ status: request.query.status }, request.query, true);
      },
    );

    app.post(
      '/admin/payouts/:id/paid',
      {
        preHandler: [admin, idempotency.guard()],
        schema: {
          tags: ['commerce'],
          summary: 'Mark a requested payout paid after the bank transfer; the ledger books it (admin)',
          description:
            'Send an Idempotency-Key to retry safely: a retry answers the paid payout instead of commerce.payout-not-requested, and books nothing more.',
          security: bearer,
          params: IdParams,
          body: PaidBody,
          response: { 200: Payout, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      (request) =>
        payouts.markPaid(
          requireActor(request),
          request.params.id,
          request.body.reference,
          idempotency.completeInTransaction<PayoutView>(request),
        ),
    );

    app.post(
      '/admin/payouts/:id/reject',
      {
        preHandler: [admin, idempotency.guard()],
        schema: {
          tags: ['commerce'],
          summary: 'Reject a requested payout; its amount is available again (admin)',
          description:
            'Send an Idempotency-Key to retry safely: a retry answers the rejected payout instead of commerce.payout-not-requested.',
          security: bearer,
          params: IdParams,
          body: RejectBody,
          response: { 200: Payout, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      (request) =>
        payouts.reject(
          requireActor(request),
          request.params.id,
          request.body.reason,
          idempotency.completeInTransaction<PayoutView>(request),
        ),
    );
  };
}
