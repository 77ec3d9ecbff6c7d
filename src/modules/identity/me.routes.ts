import { Type } from 'typebox';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { Accounts } from './accounts.service.js';
import type { Closure } from './closure.service.js';
import { guards, metaOf, principalOf } from './route-kit.js';
import {
  Application,
  ApplicationBody,
  ChangePasswordBody,
  ChangeEmailBody,
  ChangePasswordResult,
  CloseAccountBody,
  CodeBody,
  Enrolment,
  InstructorProfileBody,
  MfaStatus,
  PasswordBody,
  ReauthBody,
  RecoveryCodes,
  UpdateMeBody,
  User,
} from './me.schemas.js';
import type { Mfa } from './mfa.service.js';
import { bearerSecurity as security, ProblemRef as Problem } from '../../platform/http/problem.js';
import { Accepted } from './auth.schemas.js';

const guarded = { 401: Problem, 403: Problem };

/** The signed-in user's own account, MFA, and the instructor application. */
export function meRoutes(deps: { accounts: Accounts; mfa: Mfa; closure: Closure }) {
  const { accounts, mfa, closure } = deps;
  return (app: App, kit: HttpKit): void => {
    const { allow } = guards(kit);
    const own = allow('profile:own');

    app.get(
      '/me',
      {
        preHandler: own,
        schema: {
          tags: ['identity: account'],
          summary: 'My account',
          security,
          response: { 200: User, ...guarded },
        },
      },
      (request) => accounts.profile(principalOf(request).subject),
    );

    app.patch(
      '/me',
      {
        preHandler: own,
        schema: {
          tags: ['identity: account'],
          summary: 'Update my profile',
          security,
          body: UpdateMeBody,
          response: { 200: User, 400: Problem, ...guarded },
        },
      },
      (request) => accounts.updateProfile(principalOf(request).subject, request.body),
    );

    app.post(
      '/me/password',
      {
        preHandler: own,
        schema: {
          tags: ['identity: account'],
          summary: 'Change my password (signs out my other sessions)',
          security,
          body: ChangePasswordBody,
          response: { 200: ChangePasswordResult, 400: Problem, ...guarded, 429: Problem },
        },
      },
      (request) => {
        const p = principalOf(request);
        return accounts.changePassword(
          { id: p.subject, sessionId: p.sessionId },
          request.body,
          metaOf(request),
        );
      },
    );

    app.post(
      '/me/email',
      {
        preHandler: own,
        schema: {
          tags: ['identity: account'],
          summary: 'Move my account to another email address (it moves when that address confirms)',
          description:
            'Mails a single-use link to the new address and a notice to the current one. The same ' +
            '202 whether or not the new address has an account. Confirm at /auth/email-change/confirm.',
          security,
          body: ChangeEmailBody,
          response: { 202: Accepted, 400: Problem, ...guarded, 429: Problem },
        },
      },
      async (request, reply) =>
        reply
          .status(202)
          .send(
            await accounts.requestEmailChange(principalOf(request).subject, request.body, metaOf(request)),
          ),
    );

    app.post(
      '/me/close',
      {
        preHandler: own,
        schema: {
          tags: ['identity: account'],
          summary: 'Close my account for good (its personal data is erased, every session ends)',
          description:
            'Refused (409) for an instructor or admin: an admin removes the role first. Orders stay ' +
            'for the books under the bare account id; the name, address, inbox and profile go.',
          security,
          body: CloseAccountBody,
          response: {
            204: Type.Null({ description: 'The account is closed' }),
            400: Problem,
            ...guarded,
            409: Problem,
            429: Problem,
          },
        },
      },
      async (request, reply) => {
        await closure.close(principalOf(request).subject, request.body, metaOf(request));
        return reply.status(204).send(null);
      },
    );

    const mfaTags = ['identity: two-factor'];

    app.get(
      '/me/mfa',
      {
        preHandler: own,
        schema: {
          tags: mfaTags,
          summary: 'My two-factor status',
          security,
          response: { 200: MfaStatus, ...guarded },
        },
      },
      (request) => mfa.status(principalOf(request).subject),
    );

    app.post(
      '/me/mfa/totp/enroll',
      {
        preHandler: own,
        schema: {
          tags: mfaTags,
          summary: 'Start TOTP enrolment (password required); returns an otpauth:// URI for a QR code',
          security,
          body: PasswordBody,
          response: { 200: Enrolment, 400: Problem, ...guarded, 409: Problem, 429: Problem },
        },
      },
      (request) => mfa.startEnrolment(principalOf(request).subject, request.body.password, metaOf(request)),
    );

    app.post(
      '/me/mfa/totp/confirm',
      {
        preHandler: own,
        schema: {
          tags: mfaTags,
          summary: 'Confirm TOTP with a first code; turns two-factor on and returns ten recovery codes',
          security,
          body: CodeBody,
          response: { 200: RecoveryCodes, 400: Problem, ...guarded, 409: Problem },
        },
      },
      (request) => mfa.confirmEnrolment(principalOf(request).subject, request.body.code, metaOf(request)),
    );

    app.post(
      '/me/mfa/totp/disable',
      {
        preHandler: own,
        schema: {
          tags: mfaTags,
          summary: 'Turn two-factor off (password or a current code required)',
          security,
          body: ReauthBody,
          response: {
            204: Type.Null({ description: 'Two-factor is off' }),
            400: Problem,
            ...guarded,
            409: Problem,
            429: Problem,
          },
        },
      },
      async (request, reply) => {
        const p = principalOf(request);
        await mfa.disable({ id: p.subject, sessionId: p.sessionId }, request.body, metaOf(request));
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/me/mfa/recovery-codes',
      {
        preHandler: own,
        schema: {
          tags: mfaTags,
          summary: 'Replace my recovery codes (password or a current code required)',
          security,
          body: ReauthBody,
          response: { 200: RecoveryCodes, 400: Problem, ...guarded, 409: Problem, 429: Problem },
        },
      },
      (request) => mfa.regenerateRecoveryCodes(principalOf(request).subject, request.body, metaOf(request)),
    );

    const instructorTags = ['identity: instructors'];

    app.post(
      '/me/instructor-application',
      {
        preHandler: allow('instructor-application:submit'),
        schema: {
          tags: instructorTags,
          summary: 'Apply to become an instructor',
          security,
          body: ApplicationBody,
          response: { 201: Application, 400: Problem, ...guarded, 409: Problem },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send(
            await accounts.applyForInstructor(
              principalOf(request).subject,
              request.body.motivation,
              metaOf(request),
            ),
          ),
    );

    app.get(
      '/me/instructor-application',
      {
        preHandler: own,
        schema: {
          tags: instructorTags,
          summary: 'My latest instructor application',
          security,
          response: { 200: Application, ...guarded, 404: Problem },
        },
      },
      (request) => accounts.latestApplication(principalOf(request).subject),
    );

    app.put(
      '/me/instructor-profile',
      {
        preHandler: allow('instructor-profile:edit'),
        schema: {
          tags: instructorTags,
          summary: 'Set my public instructor profile (instructors only)',
          security,
          body: InstructorProfileBody,
          response: { 200: User, 400: Problem, ...guarded },
        },
      },
      (request) => accounts.setInstructorProfile(principalOf(request).subject, request.body),
    );
  };
}
