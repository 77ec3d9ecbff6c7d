import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { rolesFor } from './permissions.js';
import { Category, CategoryTree, CreateCategoryBody, UpdateCategoryBody } from './categories.schemas.js';
import type { CategoriesService } from './categories.service.js';
import { bearerSecurity, ProblemRef as Problem } from '../../platform/http/problem.js';

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export function categoriesRoutes(service: CategoriesService) {
  return (app: App, { auth, idempotency }: HttpKit) => {
    app.get(
      '/categories',
      {
        schema: {
          tags: ['catalog'],
          summary: 'List categories (flat, oldest first)',
          querystring: PageQuery,
          response: { 200: pageOf(Category), 400: Problem },
        },
      },
      (request) => {
        const { limit = 20, cursor } = request.query;
        return service.list({ limit, cursor });
      },
    );

    app.get(
      '/categories/tree',
      {
        schema: {
          tags: ['catalog'],
          summary: 'The category tree with course counts',
          response: { 200: CategoryTree },
        },
      },
      () => service.tree(),
    );

    app.post(
      '/categories',
      {
        preHandler: [auth.require({ roles: rolesFor('categories:manage') }), idempotency.guard()],
        schema: {
          tags: ['catalog'],
          summary: 'Create a category (admin)',
          security: bearerSecurity,
          body: CreateCategoryBody,
          response: { 201: Category, 400: Problem, 401: Problem, 403: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        const category = await service.create(request.body);
        return reply.status(201).header('location', `/api/v1/categories/${category.id}`).send(category);
      },
    );

    app.patch(
      '/categories/:id',
      {
        preHandler: [auth.require({ roles: rolesFor('categories:manage') })],
        schema: {
          tags: ['catalog'],
          summary: 'Rename, re-slug or move a category (admin)',
          security: bearerSecurity,
          params: IdParams,
          body: UpdateCategoryBody,
          response: { 200: Category, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      (request) => service.update(request.params.id, request.body),
    );

    app.delete(
      '/categories/:id',
      {
        preHandler: [auth.require({ roles: rolesFor('categories:manage') })],
        schema: {
          tags: ['catalog'],
          summary: 'Delete an unused category (admin)',
          security: bearerSecurity,
          params: IdParams,
          response: { 204: Type.Null(), 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        await service.remove(request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
