import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import { CourseParams } from './courses.schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { bearer, NoContent, Problem, requireActor } from './routes.common.js';
import { Favourite } from './favourites.schemas.js';
import type { FavouritesService } from './favourites.service.js';

export function favouritesRoutes(favourites: FavouritesService) {
  return (app: App, { auth }: HttpKit) => {
    const user = auth.require();

    app.get(
      '/me/favourites',
      {
        preHandler: [user],
        schema: {
          tags: ['catalog'],
          summary: 'My wishlist, most recently saved first',
          security: bearer,
          querystring: PageQuery,
          response: { 200: pageOf(Favourite), 400: Problem, 401: Problem },
        },
      },
      (request) => favourites.list(requireActor(request), request.query),
    );

    app.put(
      '/me/favourites/:courseId',
      {
        preHandler: [user],
        schema: {
          tags: ['catalog'],
          summary: 'Save a course to my wishlist (idempotent)',
          security: bearer,
          params: CourseParams,
          response: { 204: NoContent, 401: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        await favourites.add(requireActor(request), request.params.courseId);
        return reply.status(204).send(null);
      },
    );

    app.delete(
      '/me/favourites/:courseId',
      {
        preHandler: [user],
        schema: {
          tags: ['catalog'],
          summary: 'Remove a course from my wishlist (idempotent)',
          security: bearer,
          params: CourseParams,
          response: { 204: NoContent, 401: Problem },
        },
      },
      async (request, reply) => {
        await favourites.remove(requireActor(request), request.params.courseId);
        return reply.status(204).send(null);
      },
    );
  };
}
