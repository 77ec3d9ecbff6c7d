import { Type } from 'typebox';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { Accounts } from './accounts.service.js';
import {
  Accepted,
  EmailBody,
  LoginBody,
  LoginResponse,
  LogoutBody,
  MfaLoginBody,
  RefreshBody,
  RegisterBody,
  ResetConfirmBody,
  TokenBody,
  TokenInfo,
  TokenSet,
} from './auth.schemas.js';
import { guards, metaOf, principalOf } from './route-kit.js';
import type { Login } from './login.service.js';
import { User } from './me.schemas.js';
import { FIRST_PARTY_CLIENT_ID } from './migrations/0001-identity.js';
import type { Tokens } from './tokens.service.js';
import { bearerSecurity, ProblemRef as Problem } from '../../platform/http/problem.js';

const tags = ['identity: sign-in'];
const firstParty = { clientId: FIRST_PARTY_CLIENT_ID, scope: null };

/** JSON sign-in endpoints for Lectern's own apps (the built-in first-party client). */
export function authRoutes(deps: { accounts: Accounts; login: Login; tokens: Tokens }) {
  const { accounts, login, tokens } = deps;
  return (app: App, kit: HttpKit): void => {
    const { lenient } = guards(kit);

    app.post(
      '/auth/register',
      {
        schema: {
          tags,
          summary: 'Create an account; a verification link is mailed',
          description:
            'Answers 202 whether or not the address already has an account (its owner is told by mail instead), so the endpoint cannot be used to find accounts.',
          body: RegisterBody,
          response: { 202: Accepted, 400: Problem, 429: Problem },
        },
      },
      async (request, reply) =>
        reply.status(202).send(await accounts.register(request.body, metaOf(request))),
    );

    app.post(
      '/auth/verify-email',
      {
        schema: {
          tags,
          summary: 'Confirm an email address with the mailed single-use token',
          body: TokenBody,
          response: { 200: User, 400: Problem },
        },
      },
      (request) => accounts.verifyEmail(request.body.token, metaOf(request)),
    );

    app.post(
      '/auth/email-change/confirm',
      {
        schema: {
          tags,
          summary: 'Move the account to the new address with the single-use token mailed there',
          body: TokenBody,
          response: { 200: User, 400: Problem, 409: Problem },
        },
      },
      (request) => accounts.confirmEmailChange(request.body.token, metaOf(request)),
    );

    app.post(
      '/auth/verify-email/resend',
      {
        schema: {
          tags,
          summary: 'Mail a new verification link',
          body: EmailBody,
          response: { 202: Accepted, 400: Problem, 429: Problem },
        },
      },
      async (request, reply) => reply.status(202).send(await accounts.resendVerification(request.body.email)),
    );

    app.post(
      '/auth/login',
      {
        schema: {
          tags,
          summary: 'Sign in with email and password',
          description:
            'Returns tokens, or `mfa_required` with a challenge for /auth/login/mfa. A wrong password and an unknown address get the same 401. Repeated failures are throttled (429 with Retry-After).',
          body: LoginBody,
          response: { 200: LoginResponse, 400: Problem, 401: Problem, 403: Problem, 429: Problem },
        },
      },
      (request) => login.login(request.body, firstParty, metaOf(request)),
    );

    app.post(
      '/auth/login/mfa',
      {
        schema: {
          tags,
          summary: 'Finish a sign-in with a TOTP code or a recovery code',
          body: MfaLoginBody,
          response: { 200: TokenSet, 400: Problem, 401: Problem, 403: Problem, 429: Problem },
        },
      },
      (request) =>
        login.completeMfa(
          request.body.mfaToken,
          { code: request.body.code, recoveryCode: request.body.recoveryCode },
          metaOf(request),
        ),
    );

    app.post(
      '/auth/refresh',
      {
        schema: {
          tags,
          summary: 'Exchange a refresh token for a new token pair',
          description:
            'Each refresh token works once. Presenting a used one revokes every token of that sign-in.',
          body: RefreshBody,
          response: { 200: TokenSet, 400: Problem, 401: Problem },
        },
      },
      (request) => tokens.rotate(request.body.refreshToken, FIRST_PARTY_CLIENT_ID, metaOf(request)),
    );

    app.post(
      '/auth/logout',
      {
        preHandler: lenient(),
        schema: {
          tags,
          summary: 'Sign out: revoke this sign-in’s refresh-token family',
          description:
            'Identify the session by the access token, or by the refresh token when the access token has expired.',
          security: [{ bearer: [] }, {}],
          body: LogoutBody,
          response: { 204: Type.Null({ description: 'Signed out' }), 400: Problem, 401: Problem },
        },
      },
      async (request, reply) => {
        await login.logout(
          request.principal,
          request.body.refreshToken,
          FIRST_PARTY_CLIENT_ID,
          metaOf(request),
        );
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/auth/password-reset/request',
      {
        schema: {
          tags,
          summary: 'Mail a single-use password-reset link (valid 30 minutes)',
          description: 'Answers 202 whatever the address.',
          body: EmailBody,
          response: { 202: Accepted, 400: Problem, 429: Problem },
        },
      },
      async (request, reply) =>
        reply.status(202).send(await accounts.requestPasswordReset(request.body.email, metaOf(request))),
    );

    app.post(
      '/auth/password-reset/confirm',
      {
        schema: {
          tags,
          summary: 'Set a new password with the mailed token; signs out every session',
          body: ResetConfirmBody,
          response: { 204: Type.Null({ description: 'Password changed' }), 400: Problem },
        },
      },
      async (request, reply) => {
        await accounts.confirmPasswordReset(request.body, metaOf(request));
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/auth/token-info',
      {
        preHandler: kit.auth.require({ allowClients: true }),
        schema: {
          tags,
          summary: 'What the bearer token says about its holder (verified, no database read)',
          description:
            'For apps and services that want the caller’s id, roles and scopes without a profile lookup. Refused like every guarded route once the token is revoked.',
          security: bearerSecurity,
          response: { 200: TokenInfo, 401: Problem },
        },
      },
      (request) => {
        const p = principalOf(request);
        return {
          subject: p.subject,
          kind: p.kind,
          roles: p.roles,
          scopes: p.scopes,
          clientId: p.clientId ?? null,
          sessionId: p.sessionId ?? null,
          expiresAt: new Date(p.expiresAt * 1000).toISOString(),
        };
      },
    );
  };
}
