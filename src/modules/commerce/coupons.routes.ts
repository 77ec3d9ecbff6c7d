import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import { requirePrincipal } from '../../platform/http/principal.js';
import { bearerSecurity } from '../../platform/http/problem.js';
import { errorResponses, IdParams } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import {
  Coupon,
  CouponPreview,
  CreateCouponBody,
  PreviewCouponBody,
  UpdateCouponBody,
} from './coupons.schemas.js';
import type { CouponsService } from './coupons.service.js';
import { rolesFor } from './permissions.js';

export function couponsRoutes(service: CouponsService) {
  return (app: App, { auth, idempotency }: HttpKit) => {
    const admin = auth.require({ roles: rolesFor('coupons:manage') });

    app.post(
      '/admin/coupons',
      {
        preHandler: [admin, idempotency.guard()],
        schema: {
          tags: ['commerce'],
          summary: 'Create a coupon (admin)',
          security: bearerSecurity,
          body: CreateCouponBody,
          response: { 201: Coupon, ...errorResponses(400, 401, 403, 409) },
        },
      },
      async (request, reply) => reply.status(201).send(await service.create(request.body)),
    );

    app.get(
      '/admin/coupons',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'List coupons, newest first (admin)',
          security: bearerSecurity,
          querystring: PageQuery,
          response: { 200: pageOf(Coupon), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => service.list({ limit: request.query.limit ?? 20, cursor: request.query.cursor }),
    );

    app.get(
      '/admin/coupons/:id',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'One coupon (admin)',
          security: bearerSecurity,
          params: IdParams,
          response: { 200: Coupon, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => service.get(request.params.id),
    );

    app.patch(
      '/admin/coupons/:id',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Activate, deactivate, move the window or change the limits of a coupon (admin)',
          security: bearerSecurity,
          params: IdParams,
          body: UpdateCouponBody,
          response: { 200: Coupon, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => service.update(request.params.id, request.body),
    );

    app.delete(
      '/admin/coupons/:id',
      {
        preHandler: [admin],
        schema: {
          tags: ['commerce'],
          summary: 'Delete a coupon no order used (admin)',
          security: bearerSecurity,
          params: IdParams,
          response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      async (request, reply) => {
        await service.remove(request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/coupons/preview',
      {
        preHandler: [auth.require({ roles: rolesFor('coupons:preview') })],
        schema: {
          tags: ['commerce'],
          summary: 'What a cart would cost with a coupon now (reserves nothing)',
          security: bearerSecurity,
          body: PreviewCouponBody,
          response: { 200: CouponPreview, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      (request) =>
        service.preview(requirePrincipal(request).subject, request.body.code, request.body.courseIds),
    );
  };
}
