import { pageOf, PageQuery } from '../../platform/http/pagination.js';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import { rolesFor } from './permissions.js';
import type { ReconciliationService } from './reconciliation.service.js';
import {
  AdminRefundQuery,
  CreateRefundBody,
  DecisionBody,
  ReconciliationQuery,
  ReconciliationReport,
  Refund,
  RefundCheck,
  RefundParams,
  type RefundView,
} from './refunds.schemas.js';
import type { RefundsService } from './refunds.service.js';
import { bearer, requireActor, type RouteSet } from './routes.common.js';

export function refundsRoutes(refunds: RefundsService, reconciliation: ReconciliationService): RouteSet {
  return (app, { auth, idempotency }) => {
    const user = auth.require();
    const admin = auth.require({ roles: rolesFor('orders:manage-any') });

    /** The two ways a refund is created: a learner's request under the rule, or an admin's, at once. */
    const createRoute = (
      path: string,
      guard: typeof user,
      doc: { summary: string; description?: string },
      create: RefundsService['request'],
    ) =>
      app.post(
        path,
        {
          preHandler: [guard, idempotency.guard()],
          schema: {
            tags: ['commerce'],
            ...doc,
            security: bearer,
            params: IdParams,
            body: CreateRefundBody,
            response: { 201: Refund, ...errorResponses(400, 401, 403, 404, 409) },
          },
        },
        async (request, reply) => {
          const view = await create(
            requireActor(request),
            request.params.id,
            request.body,
            idempotency.completeInTransaction<RefundView>(request, { status: 201 }),
          );
          return reply.status(201).send(view);
        },
      );

    createRoute(
      '/orders/:id/refunds',
      user,
      {
        summary: 'Ask for a refund of my paid order (all that is left, some courses, or an amount)',
        description:
          'Within the refund window and below the consumption limit the refund is approved at once and sent to the provider; otherwise it waits for an administrator. After the window it is refused (commerce.refund-window-closed). Never more than was paid. Send an Idempotency-Key to retry safely.',
      },
      (...args) => refunds.request(...args),
    );

    app.get(
      '/refunds',
      {
        preHandler: [user],
        schema: {
          tags: ['commerce'],
          summary: 'My refunds, newest first',
          security: bearer,
          querystring: PageQuery,
          response: { 200: pageOf(Refund), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => refunds.list({ userId: requireActor(request).userId }, request.query),
    );

    app.get(
      '/refunds/:refundId',
      {
        preHandler: [user],
        schema: {
          tags: ['commerce'],
          summary: 'One of my refunds with its history (admins: any refund)',
          security: bearer,
          params: RefundParams,
          response: { 200: Refund, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => refunds.get(requireActor(request), request.params.refundId),
    );

    app.post(
      '/refunds/:refundId/query',
      {
        preHandler: [user],
        schema: {
          tags: ['commerce'],
          summary: 'Ask the provider about one of my refunds now (admins: any refund)',
          description:
            'A refund the provider reports refunded or failed is settled here as its notification would settle it; otherwise nothing changes.',
          security: bearer,
          params: RefundParams,
          response: { 200: RefundCheck, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => refunds.query(requireActor(request), request.params.refundId),
    );

    app.get(
      '/admin/refunds',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Every refund, newest first, optionally of one status (admin)',
          security: bearer,
          querystring: AdminRefundQuery,
          response: { 200: pageOf(Refund), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => {
        requireActor(request);
        return refunds.list({ status: request.query.status }, request.query);
      },
    );

    for (const decision of ['approve', 'reject'] as const) {
      app.post(
        `/admin/refunds/:refundId/${decision}`,
        {
          preHandler: [admin],
          schema: {
            tags: ['commerce'],
            summary:
              decision === 'approve'
                ? 'Approve a requested refund; it is sent to the provider (admin)'
                : 'Reject a requested refund; its amount can be asked for again (admin)',
            security: bearer,
            params: RefundParams,
            body: DecisionBody,
            response: { 200: Refund, ...errorResponses(400, 401, 403, 404, 409) },
          },
        },
        (request) =>
          refunds.decide(requireActor(request), request.params.refundId, decision, request.body.reason),
      );
    }

    createRoute(
      '/admin/orders/:id/refunds',
      admin,
      { summary: 'Refund any paid order, at any time (admin); approved at once' },
      (...args) => refunds.adminRefund(...args),
    );

    app.get(
      '/admin/commerce/reconciliation',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Orders of a time range whose state disagrees with their provider’s (admin)',
          description:
            'Asks each payment’s provider (its query API) about the orders created in [from, to), at most 31 days and `limit` orders per page; changes nothing.',
          security: bearer,
          querystring: ReconciliationQuery,
          response: { 200: ReconciliationReport, ...errorResponses(400, 401, 403) },
        },
      },
      (request) => {
        requireActor(request);
        const q = request.query;
        return reconciliation.report({ from: new Date(q.from), to: new Date(q.to) }, q);
      },
    );
  };
}
