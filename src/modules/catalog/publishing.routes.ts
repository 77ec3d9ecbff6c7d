import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { CourseDetail, CourseParams, CourseSummary, RejectBody } from './courses.schemas.js';
import { rolesFor } from './permissions.js';
import type { PublishingService, Transition } from './publishing.service.js';
import type { ReviewQueueService } from './review-queue.service.js';
import { bearer, Problem, requireActor } from './routes.common.js';

/** The publishing workflow's transitions and the reviewers' queue. */
export function publishingRoutes(publishing: PublishingService, reviewQueue: ReviewQueueService) {
  return (app: App, { auth }: HttpKit) => {
    const author = auth.require({ roles: rolesFor('courses:author') });
    const reviewer = auth.require({ roles: rolesFor('courses:review') });

    const transitions: { action: Transition; summary: string; reviewerOnly: boolean }[] = [
      { action: 'submit', summary: 'Submit a draft for review', reviewerOnly: false },
      { action: 'withdraw', summary: 'Take a course back out of review', reviewerOnly: false },
      { action: 'approve', summary: 'Approve and publish a course (admin)', reviewerOnly: true },
      { action: 'archive', summary: 'Take a published course off sale', reviewerOnly: false },
    ];
    for (const t of transitions) {
      app.post(
        `/courses/:courseId/${t.action}`,
        {
          preHandler: [t.reviewerOnly ? reviewer : author],
          schema: {
            tags: ['catalog'],
            summary: t.summary,
            security: bearer,
            params: CourseParams,
            response: { 200: CourseDetail, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
          },
        },
        (request) => publishing.transition(requireActor(request), request.params.courseId, t.action),
      );
    }

    app.post(
      '/courses/:courseId/reject',
      {
        preHandler: [reviewer],
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
        publishing.transition(requireActor(request), request.params.courseId, 'reject', request.body.reason),
    );

    app.get(
      '/review/courses',
      {
        preHandler: [reviewer],
        schema: {
          tags: ['catalog'],
          summary: 'Courses waiting for review, oldest first (admin)',
          security: bearer,
          querystring: PageQuery,
          response: { 200: pageOf(CourseSummary), 400: Problem, 401: Problem, 403: Problem },
        },
      },
      (request) => reviewQueue.list(request.query),
    );
  };
}
