import basicAuth from 'basic-auth';
import type { FastifyBaseLogger, FastifyError, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
import type { App } from '../../platform/http/server.js';
import { parseFormBody } from '../../platform/http/raw-body.js';
import type { HttpKit } from '../../platform/module.js';
import { metaOf } from './route-kit.js';
import type { SigningKeys } from './keys.service.js';
import {
  FORM,
  IntrospectionResponse,
  IntrospectRequest,
  Jwks,
  OAuthErrorBody,
  RevokeRequest,
  ServerMetadata,
  TokenRequest,
  TokenResponse,
} from './oauth.schemas.js';
import { type ClientCredentials, GRANT_TYPES, type OAuth, OAuthError } from './oauth.service.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * RFC 6749 §3.2: parameters sent more than once are an error, not "last one wins". The
 * platform's form parser refuses them (an AppError, answered here as `invalid_request`).
 */
export function parseForm(body: string): Record<string, string> {
  const form = parseFormBody(body);
  // no OAuth parameter carries NUL, and PostgreSQL text cannot store or compare it
  if (Object.entries(form).some(([key, value]) => `${key}${value}`.includes('\u0000'))) {
    throw new OAuthError('invalid_request', 'Parameters must not contain NUL characters.');
  }
  return form;
}

// RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined and base64-encoded
const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));

/**
 * Client authentication (RFC 6749 §2.3): HTTP Basic with form-encoded id and secret, or
 * client_id/client_secret in the body, or client_id alone for a public client. Only one method.
 */
export function clientCredentials(
  request: FastifyRequest,
  body: { client_id?: string | undefined; client_secret?: string | undefined },
): ClientCredentials {
  const header = request.headers.authorization;
  if (header === undefined) {
    return body.client_secret === undefined
      ? { clientId: body.client_id, method: 'none' }
      : { clientId: body.client_id, clientSecret: body.client_secret, method: 'client_secret_post' };
  }
  const basicChallenge = { 'www-authenticate': 'Basic realm="lectern", charset="UTF-8"' };
  // basic-auth (jshttp) reads the scheme, base64 and the first colon; the form decoding is ours
  const basic = basicAuth.parse(header);
  if (basic === undefined)
    throw new OAuthError('invalid_client', 'Use HTTP Basic client authentication.', 401, basicChallenge);
  let clientId: string;
  let clientSecret: string;
  try {
    clientId = formDecode(basic.name);
    clientSecret = formDecode(basic.pass);
  } catch {
    throw new OAuthError(
      'invalid_client',
      'The Basic credentials are not form-encoded.',
      401,
      basicChallenge,
    );
  }
  if (body.client_secret !== undefined) {
    throw new OAuthError('invalid_request', 'Use one client authentication method, not several.');
  }
  if (body.client_id !== undefined && body.client_id !== clientId) {
    throw new OAuthError('invalid_request', 'client_id does not match the Authorization header.');
  }
  return { clientId, clientSecret, method: 'client_secret_basic' };
}

/** Every failure in this scope answers as RFC 6749 §5.2 JSON, never problem+json. */
function toOAuthError(error: unknown, logger: FastifyBaseLogger): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof AppError) {
    if (error.kind === 'rate_limited') return new OAuthError('invalid_request', error.message, 429);
    return new OAuthError('invalid_request', error.message);
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    return new OAuthError(
      'invalid_request',
      `The request is malformed${first?.message ? `: ${first.instancePath || 'body'} ${first.message}` : ''}.`,
    );
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const description = fe.statusCode === 415 ? `Send the parameters as ${FORM}.` : fe.message;
    return new OAuthError('invalid_request', description, fe.statusCode);
  }
  logger.error({ err: error }, 'oauth request failed');
  return new OAuthError('server_error', 'Something went wrong on our side.', 500);
}

/**
 * Root routes: the OAuth 2.0 endpoints, the JWKS and the RFC 8414 metadata. `issuer` is the one
 * value access tokens carry as `iss`; `baseUrl` comes from configuration, never from the Host
 * header, so a forged Host cannot make the metadata point clients elsewhere.
 */
export function oauthRoutes(deps: { oauth: OAuth; keys: SigningKeys; issuer: string; baseUrl: string }) {
  const { oauth, keys, issuer } = deps;
  const base = deps.baseUrl.replace(/\/+$/, '');
  return (app: App, _kit: HttpKit): void => {
    // only form bodies here (RFC 6749 §3.2); JSON gets 415 rather than being half-understood
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => {
      try {
        done(null, parseForm(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    app.setErrorHandler((error, request, reply) => {
      const e = toOAuthError(error, request.log);
      return reply
        .status(e.status)
        .headers({ ...NO_STORE, ...e.headers })
        .type('application/json; charset=utf-8')
        .send({ error: e.error, error_description: e.description });
    });

    const tags = ['oauth'];
    // client authentication: HTTP Basic, or in the body (client_secret_post, or client_id alone)
    const security: Record<string, string[]>[] = [{ clientBasic: [] }, {}];
    const errors = { 400: OAuthErrorBody, 401: OAuthErrorBody, 415: OAuthErrorBody, 429: OAuthErrorBody };

    app.post(
      '/oauth/token',
      {
        schema: {
          tags,
          security,
          summary: 'OAuth 2.0 token endpoint (RFC 6749)',
          description:
            'Grants: `client_credentials` (confidential clients, scopes), `refresh_token` (rotating; a reused token revokes its family), `password` (first-party clients only). Client authentication: HTTP Basic, client_secret_post, or client_id alone for public clients.',
          consumes: [FORM],
          body: TokenRequest,
          response: { 200: TokenResponse, ...errors },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const result = await oauth.token(body, clientCredentials(request, body), metaOf(request));
        return reply.headers(NO_STORE).send(result);
      },
    );

    app.post(
      '/oauth/revoke',
      {
        schema: {
          tags,
          security,
          summary: 'Token revocation (RFC 7009); revoking a refresh token ends its whole family',
          consumes: [FORM],
          body: RevokeRequest,
          response: { 200: Type.Null({ description: 'Revoked, or was not a valid token' }), ...errors },
        },
      },
      async (request, reply) => {
        const body = request.body;
        await oauth.revoke(body, clientCredentials(request, body), metaOf(request));
        return reply.headers(NO_STORE).status(200).send(null);
      },
    );

    app.post(
      '/oauth/introspect',
      {
        schema: {
          tags,
          security,
          summary: 'Token introspection (RFC 7662), for confidential clients',
          consumes: [FORM],
          body: IntrospectRequest,
          response: { 200: IntrospectionResponse, ...errors },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const result = await oauth.introspect(body, clientCredentials(request, body));
        return reply.headers(NO_STORE).send(result);
      },
    );

    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          tags,
          summary: 'Public keys that verify access tokens (RFC 7517), current and recently retired',
          response: { 200: Jwks },
        },
      },
      async (_request, reply) => {
        // short: a rotated key must reach verifiers well within the access-token lifetime
        reply.header('cache-control', 'public, max-age=60');
        const set = await keys.keySource.keySet();
        return {
          keys: set.keys.map((k) => ({
            ...k,
            kty: k.kty ?? 'OKP',
            kid: k.kid ?? '',
            alg: k.alg ?? '',
            use: k.use ?? 'sig',
          })),
        };
      },
    );

    app.get(
      '/.well-known/oauth-authorization-server',
      {
        schema: {
          tags,
          summary: 'Authorization server metadata (RFC 8414)',
          response: { 200: ServerMetadata },
        },
      },
      () => {
        const authMethods = ['client_secret_basic', 'client_secret_post', 'none'];
        return {
          issuer,
          token_endpoint: `${base}/oauth/token`,
          jwks_uri: `${base}/.well-known/jwks.json`,
          revocation_endpoint: `${base}/oauth/revoke`,
          introspection_endpoint: `${base}/oauth/introspect`,
          grant_types_supported: [...GRANT_TYPES],
          // no authorization endpoint: no response types (the field is REQUIRED, so it is empty rather than absent)
          response_types_supported: [],
          token_endpoint_auth_methods_supported: authMethods,
          revocation_endpoint_auth_methods_supported: authMethods,
          introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          service_documentation: `${base}/docs`,
        };
      },
    );
  };
}
