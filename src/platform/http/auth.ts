import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { AppError } from '../errors.js';

/** Who is calling, as established from a verified access token. */
export interface Principal {
  /** User id, or the client id for client_credentials tokens. */
  subject: string;
  kind: 'user' | 'client';
  roles: string[];
  scopes: string[];
  clientId?: string;
  /** Refresh-token family the access token came from, when issued to a user session. */
  sessionId?: string;
  tokenId: string;
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Algorithms accepted (RFC 8725 §3.1: an explicit allow-list, never `none`, never HMAC with a public key). */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA', 'ES256'];
/** RFC 9068 access-token type, so an ID token or another JWT cannot be replayed as an access token (RFC 8725 §3.11). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface KeySource {
  /** Current public keys; called when a token names a key id not seen before. */
  keySet(): Promise<JSONWebKeySet>;
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** In-process key source (identity module) or a remote JWKS URL (split deployment). */
  keys: KeySource | URL;
  /** Allowed clock skew in seconds. */
  clockTolerance?: number;
  /** Upper bound on token age regardless of its own exp, in seconds. */
  maxTokenAge?: number;
  /** Extra check on a verified token (e.g. a revoked session); throw AppError to refuse. */
  check?: (principal: Principal) => Promise<void>;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

function localKeys(source: KeySource): JWTVerifyGetKey {
  let cached: { json: string; getKey: JWTVerifyGetKey } | undefined;
  return async (header, token) => {
    const set = await source.keySet();
    const json = JSON.stringify(set);
    if (cached?.json !== json) cached = { json, getKey: createLocalJWKSet(set) };
    return cached.getKey(header, token);
  };
}

const stringArray = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === 'string')
    : typeof v === 'string'
      ? v.split(' ')
      : [];

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const getKey = options.keys instanceof URL ? createRemoteJWKSet(options.keys) : localKeys(options.keys);
  const invalid = (message: string) => AppError.unauthenticated('auth.invalid-token', message);
  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms: ACCESS_TOKEN_ALGORITHMS,
          issuer: options.issuer,
          audience: options.audience,
          typ: ACCESS_TOKEN_TYPE,
          requiredClaims: ['exp', 'iat', 'sub', 'jti'],
          clockTolerance: options.clockTolerance ?? 5,
          ...(options.maxTokenAge ? { maxTokenAge: options.maxTokenAge } : {}),
        }));
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired)
          throw AppError.unauthenticated('auth.token-expired', 'The access token has expired.');
        throw invalid('The access token is not valid.');
      }
      const { sub, jti, exp } = payload;
      if (!sub || !jti || exp === undefined) throw invalid('The access token is not valid.');
      const kind = payload.token_use === 'client' ? 'client' : 'user';
      const principal: Principal = {
        subject: sub,
        kind,
        roles: stringArray(payload.roles),
        scopes: stringArray(payload.scope),
        tokenId: jti,
        expiresAt: exp,
        ...(typeof payload.client_id === 'string' ? { clientId: payload.client_id } : {}),
        ...(typeof payload.sid === 'string' ? { sessionId: payload.sid } : {}),
      };
      if (options.check) await options.check(principal);
      return principal;
    },
  };
}

/** `Authorization: Bearer <token>` (RFC 6750); anything else is treated as no credentials. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
  if (!match?.[1])
    throw AppError.unauthenticated('auth.malformed-authorization', 'Use "Authorization: Bearer <token>".');
  return match[1];
}

export interface GuardRequirement {
  /** At least one of these roles (users only). */
  roles?: string[];
  /** All of these scopes (client tokens); user tokens pass scope checks by role. */
  scopes?: string[];
  /** Allow client_credentials tokens on this route. Default: users only. */
  allowClients?: boolean;
}

/** A route preHandler; it may answer itself by returning the reply. */
export type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

export interface AuthGuard {
  verifier: TokenVerifier;
  /** preHandler: 401 without a valid token, 403 without the required role or scope. */
  require(requirement?: GuardRequirement): PreHandler;
  /** preHandler: sets request.principal when a valid token is present, never refuses anonymous callers. */
  optional(): PreHandler;
}

export function createAuthGuard(verifier: TokenVerifier): AuthGuard {
  const authenticate = async (request: FastifyRequest): Promise<Principal | undefined> => {
    const token = bearerToken(request);
    if (!token) return undefined;
    const principal = await verifier.verify(token);
    request.principal = principal;
    return principal;
  };
  return {
    verifier,
    require(requirement = {}) {
      return async (request, reply) => {
        let principal: Principal | undefined;
        try {
          principal = await authenticate(request);
        } catch (err) {
          reply.header('www-authenticate', 'Bearer error="invalid_token"');
          throw err;
        }
        if (!principal) {
          reply.header('www-authenticate', 'Bearer');
          throw AppError.unauthenticated('auth.required', 'This route needs an access token.');
        }
        if (principal.kind === 'client' && !requirement.allowClients) {
          throw AppError.forbidden(
            'auth.user-required',
            'This route is for signed-in users, not client tokens.',
          );
        }
        if (
          requirement.roles &&
          principal.kind === 'user' &&
          !requirement.roles.some((r) => principal.roles.includes(r))
        ) {
          throw AppError.forbidden(
            'auth.role-required',
            `This route needs one of the roles: ${requirement.roles.join(', ')}.`,
          );
        }
        if (
          requirement.scopes &&
          principal.kind === 'client' &&
          !requirement.scopes.every((s) => principal.scopes.includes(s))
        ) {
          reply.header(
            'www-authenticate',
            `Bearer error="insufficient_scope", scope="${requirement.scopes.join(' ')}"`,
          );
          throw AppError.forbidden(
            'auth.scope-required',
            `This route needs the scopes: ${requirement.scopes.join(' ')}.`,
          );
        }
      };
    },
    optional() {
      return async (request) => {
        await authenticate(request);
      };
    },
  };
}
