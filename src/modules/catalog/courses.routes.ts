import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { AUTHORS, actorOf, bearer, NoContent, Problem, requireActor } from './catalog.http.js';
import {
  CourseDetail,
  CourseListQuery,
  CourseSummary,
  CreateCourseBody,
  RejectBody,
  ReorderBody,
  StudioListQuery,
  Tag,
  UpdateCourseBody,
} from './courses.schemas.js';
import type { CoursesService, Transition } from './courses.service.js';
import type { InstructorsService } from './instructors.service.js';
import type { OutlineService } from './outline.service.js';

const CourseParams = Type.Object({ courseId: Type.String({ format: 'uuid' }) });
const InstructorParams = Type.Object({ instructorId: Type.String({ format: 'uuid' }) });

const InstructorProfile = Type.Object({
  id: Type.String({ format: 'uuid' }),
  displayName: Type.String(),
  headline: Type.String(),
  bio: Type.String(),
});
const InstructorPage = Type.Object({
  ...InstructorProfile.properties,
  courseCount: Type.Integer(),
  courses: pageOf(CourseSummary),
});
const UpdateProfileBody = Type.Object({
  displayName: Type.String({ minLength: 1, maxLength: 80 }),
  headline: Type.Optional(Type.String({ maxLength: 200 })),
  bio: Type.Optional(Type.String({ maxLength: 5000, description: 'Markdown' })),
});

export function coursesRoutes(
  courses: CoursesService,
  outline: OutlineService,
  instructors: InstructorsService,
) {
  return (app: App, { auth, idempotency }: HttpKit) => {
    const author = auth.require({ roles: AUTHORS });
    const admin = auth.require({ roles: ['admin'] });

    app.get(
      '/courses',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Browse and search published courses',
          description:
            'Filters combine with AND. `category` includes its sub-categories. With `q`, results are ranked by ' +
            'relevance (unless `sort` is given) and carry `highlight`. Prices are minor units.',
          querystring: CourseListQuery,
          response: { 200: pageOf(CourseSummary), 400: Problem },
        },
      },
      (request) => courses.list(request.query),
    );

    app.get(
      '/courses/:courseId',
      {
        preHandler: [auth.optional()],
        schema: {
          tags: ['catalog'],
          summary: 'A course with its outline',
          description:
            'Paid lessons show metadata only. The instructor and admins see drafts and every detail.',
          params: CourseParams,
          response: { 200: CourseDetail, 401: Problem, 404: Problem },
        },
      },
      (request) => courses.detail(actorOf(request), request.params.courseId),
    );

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
        const course = await courses.create(requireActor(request), request.body);
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
      (request) => courses.update(requireActor(request), request.params.courseId, request.body),
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
        await courses.remove(requireActor(request), request.params.courseId);
        return reply.status(204).send(null);
      },
    );

    const transitions: { action: Transition; summary: string; adminOnly: boolean }[] = [
      { action: 'submit', summary: 'Submit a draft for review', adminOnly: false },
      { action: 'withdraw', summary: 'Take a course back out of review', adminOnly: false },
      { action: 'approve', summary: 'Approve and publish a course (admin)', adminOnly: true },
      { action: 'archive', summary: 'Take a published course off sale', adminOnly: false },
    ];
    for (const t of transitions) {
      app.post(
        `/courses/:courseId/${t.action}`,
        {
          preHandler: [t.adminOnly ? admin : author],
          schema: {
            tags: ['catalog'],
            summary: t.summary,
            security: bearer,
            params: CourseParams,
            response: { 200: CourseDetail, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
          },
        },
        (request) => courses.transition(requireActor(request), request.params.courseId, t.action),
      );
    }

    app.post(
      '/courses/:courseId/reject',
      {
        preHandler: [admin],
        schema: {
          tags: ['catalog'],
          summary: 'Send a course back to its instructor with a reason (admin)',
          security: bearer,
          params: CourseParams,
          body: RejectBody,
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
      (request) =>
        courses.transition(
          requireActor(request),
          request.params.courseId,
          'reject',
          request.body.reason.trim(),
        ),
    );

    app.put(
      '/courses/:courseId/outline',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Reorder chapters and lessons',
          description: 'List every chapter once and every lesson once; lessons may move between chapters.',
          security: bearer,
          params: CourseParams,
          body: ReorderBody,
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
      (request) => outline.reorder(requireActor(request), request.params.courseId, request.body),
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
      (request) => courses.studio(requireActor(request), request.query),
    );

    app.get(
      '/review/courses',
      {
        preHandler: [admin],
        schema: {
          tags: ['catalog'],
          summary: 'Courses waiting for review, oldest first (admin)',
          security: bearer,
          querystring: PageQuery,
          response: { 200: pageOf(CourseSummary), 400: Problem, 401: Problem, 403: Problem },
        },
      },
      (request) => courses.reviewQueue(request.query),
    );

    app.get(
      '/tags',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Tags of published courses, most used first',
          querystring: Type.Object({
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
          }),
          response: { 200: Type.Object({ data: Type.Array(Tag) }) },
        },
      },
      async (request) => ({ data: await courses.tags(request.query.limit ?? 50) }),
    );

    app.get(
      '/instructors/:instructorId',
      {
        schema: {
          tags: ['catalog'],
          summary: 'An instructor’s page with their newest published courses',
          params: InstructorParams,
          response: { 200: InstructorPage, 404: Problem },
        },
      },
      async (request) => {
        const profile = await instructors.profile(request.params.instructorId);
        const page = await courses.list({ instructorId: profile.id, limit: 20, sort: 'newest' });
        return { ...profile, courses: page };
      },
    );

    app.put(
      '/instructors/me',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Set my public instructor profile',
          security: bearer,
          body: UpdateProfileBody,
          response: { 200: InstructorProfile, 400: Problem, 401: Problem, 403: Problem },
        },
      },
      (request) => instructors.updateOwn(requireActor(request), request.body),
    );
  };
}
