import { pageOf, PageQuery } from '../../platform/http/pagination.js';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import { AdminOrderQuery, CancelBody, CreateOrderBody, Order, OrderDetail } from './orders.schemas.js';
import { type CreatedOrder, isAdmin, type OrdersService } from './orders.service.js';
import { rolesFor } from './permissions.js';
import { bearer, requireActor, type RouteSet } from './routes.common.js';

export function ordersRoutes(orders: OrdersService): RouteSet {
  return (app, { auth, idempotency }) => {
    const user = auth.require();
    const admin = auth.require({ roles: rolesFor('orders:manage-any') });

    app.post(
      '/orders',
      {
        preHandler: [user, idempotency.guard()],
        schema: {
          tags: ['commerce'],
          summary: 'Order one or more published courses (201), or get back the same pending order (200)',
          description:
            'Prices, titles and instructors are copied from the catalog now. One pending order per learner and course: ordering the same set again returns the pending order; an overlapping set is a 409 naming it. Send an Idempotency-Key to retry safely.',
          security: bearer,
          body: CreateOrderBody,
          response: { 200: Order, 201: Order, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        const result = await orders.create(
          requireActor(request),
          request.body,
          idempotency.completeInTransaction<CreatedOrder>(request, { status: 201, toWire: (r) => r.order }),
        );
        return reply.status(result.created ? 201 : 200).send(result.order);
      },
    );

    app.get(
      '/orders',
      {
        preHandler: [user],
        schema: {
          tags: ['commerce'],
          summary: 'My orders, newest first',
          security: bearer,
          querystring: PageQuery,
          response: { 200: pageOf(Order), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => orders.list({ userId: requireActor(request).userId }, request.query),
    );

    app.get(
      '/orders/:id',
      {
        preHandler: [user],
        schema: {
          tags: ['commerce'],
          summary: 'One of my orders with its history and payment attempts (admins: any order)',
          security: bearer,
          params: IdParams,
          response: { 200: OrderDetail, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => orders.get(requireActor(request), request.params.id),
    );

    app.post(
      '/orders/:id/cancel',
      {
        preHandler: [user],
        schema: {
          tags: ['commerce'],
          summary: 'Cancel a pending order (its learner or an admin)',
          security: bearer,
          params: IdParams,
          body: CancelBody,
          response: { 200: Order, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      (request) => orders.cancel(requireActor(request), request.params.id, request.body.reason),
    );

    app.get(
      '/admin/orders',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Every order, newest first, with filters (admin)',
          security: bearer,
          querystring: AdminOrderQuery,
          response: { 200: pageOf(Order), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => {
        requireActor(request);
        const q = request.query;
        return orders.list(
          {
            status: q.status,
            userId: q.userId,
            createdFrom: q.createdFrom ? new Date(q.createdFrom) : undefined,
            createdTo: q.createdTo ? new Date(q.createdTo) : undefined,
          },
          q,
        );
      },
    );

    app.get(
      '/admin/orders/:id',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Any order with its history and payment attempts (admin)',
          security: bearer,
          params: IdParams,
          response: { 200: OrderDetail, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => {
        const actor = requireActor(request);
        return orders.get(isAdmin(actor) ? actor : { ...actor, roles: [] }, request.params.id);
      },
    );
  };
}
