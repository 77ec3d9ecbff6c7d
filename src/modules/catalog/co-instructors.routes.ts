import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { CoInstructorsService } from './co-instructors.service.js';
import {
  CourseInstructorParams,
  CourseInvitationList,
  InviteBody,
  MyInvitation,
  MyInvitationList,
} from './co-instructors.schemas.js';
import { CourseParams } from './courses.schemas.js';
import { rolesFor } from './permissions.js';
import { bearer, NoContent, Problem, requireActor } from './routes.common.js';

/** Co-instructors by consent: invite, answer, withdraw, review, leave. */
export function coInstructorsRoutes(coInstructors: CoInstructorsService) {
  return (app: App, { auth }: HttpKit) => {
    const author = auth.require({ roles: rolesFor('courses:author') });
    const reviewer = auth.require({ roles: rolesFor('courses:review') });
    const problems = { 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem };

    app.post(
      '/courses/:courseId/invitations',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Invite an instructor to co-teach a course (its owner or an admin)',
          security: bearer,
          params: CourseParams,
          body: InviteBody,
          response: { 201: CourseInvitationList, ...problems },
        },
      },
      async (request, reply) => {
        const list = await coInstructors.invite(
          requireActor(request),
          request.params.courseId,
          request.body.instructorId,
        );
        return reply.status(201).send({ data: list });
      },
    );

    app.get(
      '/courses/:courseId/invitations',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Open invitations of a course (its owner, admins, reviewers)',
          security: bearer,
          params: CourseParams,
          response: { 200: CourseInvitationList, ...problems },
        },
      },
      async (request) => ({
        data: await coInstructors.listForCourse(requireActor(request), request.params.courseId),
      }),
    );

    app.delete(
      '/courses/:courseId/invitations/:instructorId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Withdraw an invitation (the owner or an admin)',
          security: bearer,
          params: CourseInstructorParams,
          response: { 204: NoContent, ...problems },
        },
      },
      async (request, reply) => {
        const { courseId, instructorId } = request.params;
        await coInstructors.withdraw(requireActor(request), courseId, instructorId);
        return reply.status(204).send(null);
      },
    );

    for (const decision of ['approve', 'reject'] as const) {
      app.post(
        `/courses/:courseId/invitations/:instructorId/${decision}`,
        {
          preHandler: [reviewer],
          schema: {
            tags: ['catalog'],
            summary: `${decision === 'approve' ? 'Approve' : 'Reject'} an accepted co-instructor of a course out of draft (admin)`,
            security: bearer,
            params: CourseInstructorParams,
            response: { 204: NoContent, ...problems },
          },
        },
        async (request, reply) => {
          const { courseId, instructorId } = request.params;
          await coInstructors.review(requireActor(request), courseId, instructorId, decision === 'approve');
          return reply.status(204).send(null);
        },
      );
    }

    app.delete(
      '/courses/:courseId/instructors/:instructorId',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Leave a course you co-teach, or remove a co-instructor (the owner or an admin)',
          security: bearer,
          params: CourseInstructorParams,
          response: { 204: NoContent, ...problems },
        },
      },
      async (request, reply) => {
        const { courseId, instructorId } = request.params;
        await coInstructors.remove(requireActor(request), courseId, instructorId);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/me/invitations',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Invitations to co-teach that I have not answered or that wait for review',
          security: bearer,
          response: { 200: MyInvitationList, 401: Problem, 403: Problem },
        },
      },
      async (request) => ({ data: await coInstructors.mine(requireActor(request)) }),
    );

    app.post(
      '/me/invitations/:courseId/accept',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Accept an invitation to co-teach (on a course out of draft, a reviewer confirms)',
          security: bearer,
          params: CourseParams,
          response: { 200: MyInvitation, ...problems },
        },
      },
      (request) => coInstructors.accept(requireActor(request), request.params.courseId),
    );

    app.post(
      '/me/invitations/:courseId/decline',
      {
        preHandler: [author],
        schema: {
          tags: ['catalog'],
          summary: 'Decline an invitation to co-teach',
          security: bearer,
          params: CourseParams,
          response: { 204: NoContent, ...problems },
        },
      },
      async (request, reply) => {
        await coInstructors.decline(requireActor(request), request.params.courseId);
        return reply.status(204).send(null);
      },
    );
  };
}
