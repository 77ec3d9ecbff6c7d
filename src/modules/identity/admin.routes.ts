import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { Admin } from './admin.service.js';
import {
  ApplicationPage,
  ApplicationsQuery,
  AuditPage,
  AuditQuery,
  Client,
  ClientCreated,
  ClientIdParams,
  ClientList,
  CreateClientBody,
  DecisionBody,
  CloseBody,
  DisableBody,
  RolesBody,
  RotateBody,
  RotateResult,
  UserListQuery,
  UserPage,
} from './admin.schemas.js';
import type { AuditLog } from './audit.service.js';
import type { Closure } from './closure.service.js';
import { guards, metaOf, principalOf } from './route-kit.js';
import { AdminUser, Application, IdParams } from './me.schemas.js';
import type { OAuth } from './oauth.service.js';
import { bearerSecurity as security, ProblemRef as Problem } from '../../platform/http/problem.js';

const tags = ['identity: admin'];
const guarded = { 401: Problem, 403: Problem };

export function adminRoutes(deps: { admin: Admin; audit: AuditLog; oauth: OAuth; closure: Closure }) {
  const { admin, audit, oauth, closure } = deps;
  return (app: App, kit: HttpKit): void => {
    const { allow } = guards(kit);

    app.get(
      '/admin/users',
      {
        preHandler: allow('users:read'),
        schema: {
          tags,
          summary: 'List and search accounts (newest first)',
          security,
          querystring: UserListQuery,
          response: { 200: UserPage, 400: Problem, ...guarded },
        },
      },
      (request) => {
        const { limit = 20, ...rest } = request.query;
        return admin.listUsers({ limit, ...rest });
      },
    );

    app.get(
      '/admin/users/:id',
      {
        preHandler: allow('users:read'),
        schema: {
          tags,
          summary: 'One account',
          security,
          params: IdParams,
          response: { 200: AdminUser, 400: Problem, ...guarded, 404: Problem },
        },
      },
      (request) => admin.getUser(request.params.id),
    );

    app.post(
      '/admin/users/:id/disable',
      {
        preHandler: allow('users:manage'),
        schema: {
          tags,
          summary:
            'Disable an account: sessions revoked, refresh refused at once, access tokens refused by the deny list',
          security,
          params: IdParams,
          body: DisableBody,
          response: { 200: AdminUser, 400: Problem, ...guarded, 404: Problem, 409: Problem },
        },
      },
      (request) =>
        admin.disableUser(
          principalOf(request).subject,
          request.params.id,
          request.body.reason ?? null,
          metaOf(request),
        ),
    );

    app.post(
      '/admin/users/:id/close',
      {
        preHandler: allow('users:manage'),
        schema: {
          tags,
          summary:
            "Close an account for good on its owner's request: personal data erased, as the owner's own closing does",
          description:
            'For a request made some other way (a support ticket, a lost mailbox) or an account disabled for ' +
            'good. Refused (409) for an instructor or admin until the role is removed, and for your own account.',
          security,
          params: IdParams,
          body: CloseBody,
          response: { 200: AdminUser, 400: Problem, ...guarded, 404: Problem, 409: Problem },
        },
      },
      async (request) => {
        const { id } = request.params;
        await closure.closeByAdmin(
          principalOf(request).subject,
          id,
          request.body.reason ?? null,
          metaOf(request),
        );
        return admin.getUser(id);
      },
    );

    app.post(
      '/admin/users/:id/enable',
      {
        preHandler: allow('users:manage'),
        schema: {
          tags,
          summary: 'Re-enable a disabled account',
          security,
          params: IdParams,
          response: { 200: AdminUser, 400: Problem, ...guarded, 404: Problem, 409: Problem },
        },
      },
      (request) => admin.enableUser(principalOf(request).subject, request.params.id, metaOf(request)),
    );

    app.put(
      '/admin/users/:id/roles',
      {
        preHandler: allow('roles:manage'),
        schema: {
          tags,
          summary: 'Replace an account’s roles (learner is always kept)',
          security,
          params: IdParams,
          body: RolesBody,
          response: { 200: AdminUser, 400: Problem, ...guarded, 404: Problem, 409: Problem },
        },
      },
      (request) =>
        admin.setRoles(principalOf(request).subject, request.params.id, request.body.roles, metaOf(request)),
    );

    app.get(
      '/admin/instructor-applications',
      {
        preHandler: allow('instructor-applications:review'),
        schema: {
          tags,
          summary: 'Instructor applications (oldest first)',
          security,
          querystring: ApplicationsQuery,
          response: { 200: ApplicationPage, 400: Problem, ...guarded },
        },
      },
      (request) => {
        const { limit = 20, ...rest } = request.query;
        return admin.listApplications({ limit, ...rest });
      },
    );

    for (const [path, decision] of [
      ['approve', 'approved'],
      ['reject', 'rejected'],
    ] as const) {
      app.post(
        `/admin/instructor-applications/:id/${path}`,
        {
          preHandler: allow('instructor-applications:review'),
          schema: {
            tags,
            summary:
              decision === 'approved'
                ? 'Approve: the applicant becomes an instructor'
                : 'Reject an application',
            security,
            params: IdParams,
            body: DecisionBody,
            response: { 200: Application, 400: Problem, ...guarded, 404: Problem, 409: Problem },
          },
        },
        (request) =>
          admin.decideApplication(
            principalOf(request).subject,
            request.params.id,
            decision,
            request.body.note ?? null,
            metaOf(request),
          ),
      );
    }

    app.get(
      '/admin/audit',
      {
        preHandler: allow('audit:read'),
        schema: {
          tags,
          summary: 'Security audit log (newest first), optionally for one user or one event type',
          security,
          querystring: AuditQuery,
          response: { 200: AuditPage, 400: Problem, ...guarded },
        },
      },
      (request) => {
        const { limit = 20, ...rest } = request.query;
        return audit.list({ limit, ...rest });
      },
    );

    app.post(
      '/admin/keys/rotate',
      {
        preHandler: allow('keys:rotate'),
        schema: {
          tags,
          summary: 'Rotate the token-signing key; the old key stays published until its tokens expire',
          security,
          body: RotateBody,
          response: { 200: RotateResult, 400: Problem, ...guarded },
        },
      },
      (request) => admin.rotateKeys(principalOf(request).subject, request.body, metaOf(request)),
    );

    app.get(
      '/admin/clients',
      {
        preHandler: allow('clients:manage'),
        schema: { tags, summary: 'OAuth clients', security, response: { 200: ClientList, ...guarded } },
      },
      async () => ({ data: await oauth.listClients() }),
    );

    app.post(
      '/admin/clients',
      {
        preHandler: allow('clients:manage'),
        schema: {
          tags,
          summary: 'Register an OAuth client; a confidential client’s secret is shown once',
          security,
          body: CreateClientBody,
          response: { 201: ClientCreated, 400: Problem, ...guarded },
        },
      },
      async (request, reply) => {
        const { firstParty = false, ...rest } = request.body;
        const created = await oauth.registerClient(
          { ...rest, firstParty },
          principalOf(request).subject,
          metaOf(request),
        );
        return reply.status(201).send(created);
      },
    );

    app.post(
      '/admin/clients/:clientId/secret',
      {
        preHandler: allow('clients:manage'),
        schema: {
          tags,
          summary:
            'Rotate a confidential client’s secret (shown once); its client tokens are refused at once',
          security,
          params: ClientIdParams,
          response: { 200: ClientCreated, 400: Problem, ...guarded, 404: Problem, 409: Problem },
        },
      },
      (request) =>
        oauth.rotateClientSecret(request.params.clientId, principalOf(request).subject, metaOf(request)),
    );

    for (const [action, disabled] of [
      ['disable', true],
      ['enable', false],
    ] as const) {
      app.post(
        `/admin/clients/:clientId/${action}`,
        {
          preHandler: allow('clients:manage'),
          schema: {
            tags,
            summary: disabled
              ? 'Disable a client: refused at the token endpoint, its sessions revoked, its tokens refused at once'
              : 'Re-enable a disabled client',
            security,
            params: ClientIdParams,
            response: { 200: Client, 400: Problem, ...guarded, 404: Problem, 409: Problem },
          },
        },
        (request) =>
          oauth.setClientDisabled(
            request.params.clientId,
            disabled,
            principalOf(request).subject,
            metaOf(request),
          ),
      );
    }
  };
}
