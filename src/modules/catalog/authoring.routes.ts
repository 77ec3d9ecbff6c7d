import { pageOf } from '../../platform/http/pagination.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { AuthoringService } from './authoring.service.js';
import {
  CourseDetail,
  CourseParams,
  CourseSummary,
  CreateCourseBody,
  StudioListQuery,
  UpdateCourseBody,
} from './courses.schemas.js';
import { rolesFor } from './permissions.js';
import { bearer, NoContent, Problem, requireActor } from './routes.common.js';

/** An instructor's own courses: create, edit, delete a draft, the studio list. */
export function authoringRoutes(authoring: AuthoringService) {
  return (app: App, { auth, idempotency }: HttpKit) => {
    const author = auth.require({ roles: rolesFor('courses:author') });

    app.post(
      '/courses',
      {
        preHandler: [author, idempotency.guard()],
        schema: {
          tags: ['catalog'],
          summary: 'Create a draft course (instructor)',
          security: bearer,
          body: CreateCourseBody,
          response: { 201: CourseDetail, 400: Problem, 401: Problem, 403: Problem },
        },
      },
      async (request, reply) => {
        const course = await authoring.create(requireActor(request), request.body);
        return reply.status(201).header('location', `/api/v1/courses/${course.id}`).send(course);
      },
    );

    app.patch(
      '/courses/:courseId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Edit a course (its instructor or an admin)',
          description: 'A published course stays on sale; a new price applies to orders created afterwards.',
          security: bearer,
          params: CourseParams,
          body: UpdateCourseBody,
          response: {
            200: CourseDetail,
            400: Problem,
            401: Problem,
            403: Problem,
            404: Problem,
            409: Problem,
          },
        },
      },
      (request) => authoring.update(requireActor(request), request.params.courseId, request.body),
    );

    app.delete(
      '/courses/:courseId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Delete a never-published draft',
          security: bearer,
          params: CourseParams,
          response: { 204: NoContent, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
        },
      },
      async (request, reply) => {
        await authoring.remove(requireActor(request), request.params.courseId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/studio/courses',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'My courses in every status (instructor)',
          security: bearer,
          querystring: StudioListQuery,
          response: { 200: pageOf(CourseSummary), 400: Problem, 401: Problem, 403: Problem },
        },
      },
      (request) => authoring.studio(requireActor(request), request.query),
    );
  };
}
