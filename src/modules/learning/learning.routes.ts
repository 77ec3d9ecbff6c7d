import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.js';
import { PageQuery, pageOf } from '../../platform/http/pagination.js';
import { requirePrincipal } from '../../platform/http/principal.js';
import { bearerSecurity as bearer } from '../../platform/http/problem.js';
import { errorResponses } from '../../platform/http/schemas.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { AccessService, Learner } from './access.service.js';
import type { CertificatesService } from './certificates.service.js';
import type { EntitlementsService } from './entitlements.service.js';
import { LearningErrors } from './learning.errors.js';
import {
  CertificateList,
  CertificateParams,
  ContentAccess,
  ContentQuery,
  CourseParams,
  Enrolment,
  Granted,
  GrantInput,
  LearningTime,
  LessonParams,
  MyCourse,
  ProgressInput,
  ProgressState,
  PurchaseProblem,
  Revoked,
  TimeQuery,
  Verification,
  VerificationParams,
} from './learning.schemas.js';
import { rolesFor } from './permissions.js';
import type { ProgressService } from './progress.service.js';
import { isUuid } from '../../platform/ids.js';

const tags = ['learning'];

function learnerFrom(subject: string, roles: string[]): Learner {
  // learning keeps user ids in uuid columns; any other subject would surface as a 500
  if (!isUuid(subject)) {
    throw AppError.forbidden(
      LearningErrors.unsupportedSubject,
      'This token’s subject is not a user of this platform.',
    );
  }
  return { userId: subject, roles };
}

const requireLearner = (request: FastifyRequest) => {
  const p = requirePrincipal(request);
  return learnerFrom(p.subject, p.roles);
};
const optionalLearner = (request: FastifyRequest) =>
  request.principal ? learnerFrom(request.principal.subject, request.principal.roles) : undefined;

export function learningRoutes(services: {
  access: AccessService;
  entitlements: EntitlementsService;
  progress: ProgressService;
  certificates: CertificatesService;
}) {
  const { access, entitlements, progress, certificates } = services;
  return (app: App, { auth }: HttpKit) => {
    const user = auth.require();
    const anyone = auth.optional();
    const admin = auth.require({ roles: rolesFor('entitlements:manage') });

    // answers here are the caller's own (signed URLs, progress, certificates) or must be fresh
    // (a certificate's verification): none is for a shared cache or a browser to keep
    app.addHook('onRequest', (_request, reply, done) => {
      reply.header('cache-control', 'private, no-store');
      done();
    });

    app.get(
      '/lessons/:lessonId/access',
      {
        preHandler: [anyone],
        schema: {
          tags,
          summary: 'A short-lived content URL for this lesson, or 403 learning.purchase-required',
          security: bearer,
          params: LessonParams,
          response: { 200: ContentAccess, ...errorResponses(400, 401, 404), 403: PurchaseProblem },
        },
      },
      (request) => access.contentUrl(optionalLearner(request), request.params.lessonId),
    );

    app.get(
      '/lessons/:lessonId/content',
      {
        schema: {
          tags,
          summary: 'Open a signed content URL (redirects to the file)',
          params: LessonParams,
          querystring: ContentQuery,
          response: { ...errorResponses(400, 403, 404, 409, 410) },
        },
      },
      async (request, reply) => {
        const url = await access.openContent(request.params.lessonId, request.query);
        return reply.redirect(url, 303);
      },
    );

    app.post(
      '/courses/:courseId/enrol',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Enrol in a free published course (idempotent)',
          security: bearer,
          params: CourseParams,
          response: { 200: Enrolment, ...errorResponses(400, 401, 403, 404, 409) },
        },
      },
      (request) => entitlements.enrolFree(requireLearner(request).userId, request.params.courseId),
    );

    app.post(
      '/admin/entitlements',
      {
        preHandler: [admin],
        schema: {
          tags,
          summary: 'Grant a course to a user by hand, with a reason',
          security: bearer,
          body: GrantInput,
          response: { 200: Granted, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => entitlements.adminGrant(request.body),
    );

    app.post(
      '/admin/entitlements/revoke',
      {
        preHandler: [admin],
        schema: {
          tags,
          summary: 'Revoke an admin grant (orders and free enrolments stay), with a reason',
          security: bearer,
          body: GrantInput,
          response: { 200: Revoked, ...errorResponses(400, 401, 403, 404) },
        },
      },
      (request) => entitlements.adminRevoke(request.body),
    );

    app.put(
      '/lessons/:lessonId/progress',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'Report progress in a lesson (monotonic; reports too close together are ignored)',
          security: bearer,
          params: LessonParams,
          body: ProgressInput,
          response: { 200: ProgressState, ...errorResponses(400, 401, 404), 403: PurchaseProblem },
        },
      },
      (request) => progress.report(requireLearner(request), request.params.lessonId, request.body),
    );

    app.get(
      '/me/learning',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'My courses with progress, most recently active first',
          security: bearer,
          querystring: PageQuery,
          response: { 200: pageOf(MyCourse), ...errorResponses(400, 401, 403) },
        },
      },
      (request) => progress.myLearning(requireLearner(request).userId, request.query),
    );

    app.get(
      '/me/learning/time',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'My learning time per UTC day',
          security: bearer,
          querystring: TimeQuery,
          response: { 200: LearningTime, ...errorResponses(400, 401, 403) },
        },
      },
      (request) => progress.learningTime(requireLearner(request).userId, request.query.days ?? 30),
    );

    app.get(
      '/me/certificates',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'My certificates',
          security: bearer,
          response: { 200: CertificateList, ...errorResponses(401, 403) },
        },
      },
      (request) => certificates.mine(requireLearner(request).userId),
    );

    app.get(
      '/me/certificates/:certificateId/pdf',
      {
        preHandler: [user],
        schema: {
          tags,
          summary: 'My certificate as a PDF',
          security: bearer,
          params: CertificateParams,
          produces: ['application/pdf'],
          response: { ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const pdf = await certificates.pdf(requireLearner(request).userId, request.params.certificateId);
        return reply
          .type('application/pdf')
          .header(
            'content-disposition',
            `attachment; filename="certificate-${request.params.certificateId}.pdf"`,
          )
          .send(Buffer.from(pdf));
      },
    );

    app.get(
      '/certificates/verify/:verificationId',
      {
        schema: {
          tags,
          summary: 'Check a certificate by the verification id printed on it (public)',
          params: VerificationParams,
          response: { 200: Verification, ...errorResponses(400, 404) },
        },
      },
      (request) => certificates.verify(request.params.verificationId),
    );
  };
}
