import { decodeJwt } from 'jose';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import type { TokenVerifier } from '../../platform/http/auth.js';
import type { AuditLog } from './audit.service.js';
import { findClient, insertClient, listClients, updateClient } from './clients.queries.js';
import { FIRST_PARTY_CLIENT_ID } from './migrations/0001-identity.js';
import { type Clock, internalMeta, type IdentityDb, type RequestMeta } from './context.js';
import { randomToken, safeEqual, sha256 } from './crypto.js';
import type { Login } from './login.service.js';
import { ClientErrors, IdentityErrors, THROTTLED_CODE } from './identity.errors.js';
import { ACCESS_TOKEN_TTL_SECONDS, type Tokens, type TokenSet } from './tokens.service.js';

export const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** An RFC 6749 §5.2 error; the OAuth routes render it as `{error, error_description}`. */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export interface ClientCredentials {
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  method: 'client_secret_basic' | 'client_secret_post' | 'none';
}

export interface TokenParams {
  grant_type?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  refresh_token?: string | undefined;
  scope?: string | undefined;
  mfa_code?: string | undefined;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

export interface Introspection {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  sub?: string;
  aud?: string;
  iss?: string;
  jti?: string;
}

export interface ClientView {
  clientId: string;
  name: string;
  confidential: boolean;
  firstParty: boolean;
  grantTypes: string[];
  scopes: string[];
  createdAt: string;
  disabledAt: string | null;
}

export type OAuth = ReturnType<typeof createOAuth>;

export function parseScope(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const scopes = raw.split(' ').filter((s) => s.length > 0);
  if (!scopes.every((s) => SCOPE_TOKEN.test(s)))
    throw new OAuthError('invalid_scope', 'The scope is malformed.');
  return [...new Set(scopes)];
}

const toClientView = (row: {
  client_id: string;
  name: string;
  secret_hash: string | null;
  first_party: boolean;
  grant_types: string[];
  scopes: string[];
  created_at: Date;
  disabled_at: Date | null;
}): ClientView => ({
  clientId: row.client_id,
  name: row.name,
  confidential: row.secret_hash !== null,
  firstParty: row.first_party,
  grantTypes: row.grant_types,
  scopes: row.scopes,
  createdAt: row.created_at.toISOString(),
  disabledAt: row.disabled_at?.toISOString() ?? null,
});

/** The OAuth 2.0 authorization server: clients, the token endpoint, revocation, introspection. */
export function createOAuth(deps: {
  db: IdentityDb;
  tokens: Tokens;
  login: Login;
  audit: AuditLog;
  verifier: TokenVerifier;
  issuer: string;
  clock: Clock;
}) {
  const { db, tokens, login, audit, verifier, issuer, clock } = deps;

  const noSuchClient = () => AppError.notFound(ClientErrors.notFound, 'No such client.');
  async function clientOrThrow(clientId: string) {
    const client = await findClient(db, clientId);
    if (!client) throw noSuchClient();
    return client;
  }

  async function authenticate(creds: ClientCredentials) {
    const refuse = () =>
      new OAuthError(
        'invalid_client',
        'Client authentication failed.',
        401,
        creds.method === 'client_secret_basic'
          ? { 'www-authenticate': 'Basic realm="lectern", charset="UTF-8"' }
          : {},
      );
    if (!creds.clientId) throw refuse();
    const client = await findClient(db, creds.clientId);
    if (!client || client.disabled_at !== null) throw refuse();
    if (client.secret_hash === null) {
      // a public client has nothing to prove; sending a secret means the caller is confused
      if (creds.method !== 'none') throw refuse();
    } else if (
      creds.method === 'none' ||
      !creds.clientSecret ||
      !safeEqual(sha256(creds.clientSecret), client.secret_hash)
    ) {
      throw refuse();
    }
    return client;
  }

  /** Map identity's own refusals to RFC 6749 grant errors. */
  function grantError(err: unknown): never {
    if (err instanceof AppError) {
      if (err.code === THROTTLED_CODE) {
        const seconds = err.details.retryAfterSeconds;
        const retry = typeof seconds === 'number' ? String(seconds) : '60';
        throw new OAuthError('invalid_grant', err.message, 429, { 'retry-after': retry });
      }
      if (err.kind === 'unauthenticated' || err.kind === 'forbidden' || err.kind === 'validation') {
        throw new OAuthError('invalid_grant', err.message);
      }
    }
    throw err;
  }

  const asResponse = (
    set: Pick<TokenSet, 'accessToken' | 'expiresIn' | 'scope'> & { refreshToken?: string },
  ): TokenResponse => ({
    access_token: set.accessToken,
    token_type: 'Bearer',
    expires_in: set.expiresIn,
    ...(set.refreshToken ? { refresh_token: set.refreshToken } : {}),
    ...(set.scope ? { scope: set.scope } : {}),
  });

  function grantedScope(
    requested: string[] | undefined,
    allowed: string[],
    fallback: string[] | null,
  ): string | null {
    if (requested === undefined) return fallback && fallback.length > 0 ? fallback.join(' ') : null;
    const refused = requested.filter((s) => !allowed.includes(s));
    if (refused.length > 0)
      throw new OAuthError('invalid_scope', `The client may not request: ${refused.join(' ')}.`);
    return requested.length > 0 ? requested.join(' ') : null;
  }

  return {
    authenticate,

    /** Register a client; the secret is returned this once and stored only as a hash. */
    async registerClient(
      input: {
        name: string;
        grantTypes: GrantType[];
        scopes: string[];
        confidential: boolean;
        firstParty: boolean;
      },
      actorId: string | null = null,
      meta: RequestMeta = internalMeta,
    ): Promise<ClientView & { clientSecret: string | null }> {
      if (input.grantTypes.includes('client_credentials') && !input.confidential) {
        throw IdentityErrors.clientInvalid(
          'client_credentials needs a confidential client.',
          '/body/confidential',
          'must be true for client_credentials',
        );
      }
      if (input.grantTypes.includes('password') && !input.firstParty) {
        throw IdentityErrors.clientInvalid(
          'The password grant is for first-party clients only (RFC 9700 §2.4).',
          '/body/firstParty',
          'must be true for the password grant',
        );
      }
      const scopes = input.scopes.filter((s) => SCOPE_TOKEN.test(s));
      if (scopes.length !== input.scopes.length) {
        throw IdentityErrors.clientInvalid(
          'A scope is malformed.',
          '/body/scopes',
          'must be printable ASCII without spaces, quotes or backslashes',
        );
      }
      const clientId = `cl_${randomToken(12)}`;
      const clientSecret = input.confidential ? `cs_${randomToken(32)}` : null;
      const row = await insertClient(db, {
        client_id: clientId,
        name: input.name,
        secret_hash: clientSecret ? sha256(clientSecret) : null,
        grant_types: [...new Set(input.grantTypes)],
        scopes: [...new Set(scopes)],
        first_party: input.firstParty,
      });
      await audit.record(db, {
        type: 'client.created',
        actorId,
        meta,
        details: { clientId, name: input.name },
      });
      return { ...toClientView(row), clientSecret };
    },

    /**
     * A new secret for a confidential client, shown once; the old one stops working and every
     * client_credentials token got with it is refused at once (a leaked secret is why one rotates).
     * Its users' sessions stay: their refreshes need the new secret.
     */
    async rotateClientSecret(
      clientId: string,
      actorId: string,
      meta: RequestMeta,
    ): Promise<ClientView & { clientSecret: string }> {
      const client = await clientOrThrow(clientId);
      if (client.secret_hash === null) {
        throw AppError.conflict(ClientErrors.noSecret, 'A public client has no secret to rotate.');
      }
      const clientSecret = `cs_${randomToken(32)}`;
      const row = await inTransaction(db, async (trx) => {
        const updated = await updateClient(trx, clientId, { secret_hash: sha256(clientSecret) });
        await audit.record(trx, { type: 'client.secret_rotated', actorId, meta, details: { clientId } });
        return updated;
      });
      if (!row) throw noSuchClient();
      await tokens.voidClientTokens(clientId);
      return { ...toClientView(row), clientSecret };
    },

    /**
     * Disabling refuses the client at the token endpoint, revokes every session its users hold
     * through it and, after commit, refuses at once every access token it or they hold. Enabling
     * lets it get tokens again (the revoked sessions stay revoked). The built-in app client cannot
     * be disabled: every sign-in of the JSON API goes through it.
     */
    async setClientDisabled(
      clientId: string,
      disabled: boolean,
      actorId: string,
      meta: RequestMeta,
    ): Promise<ClientView> {
      if (clientId === FIRST_PARTY_CLIENT_ID) {
        throw AppError.conflict(ClientErrors.builtIn, 'The built-in app client cannot be disabled.');
      }
      const client = await clientOrThrow(clientId);
      if ((client.disabled_at !== null) === disabled) return toClientView(client);
      const { row, revoked } = await inTransaction(db, async (trx) => {
        const updated = await updateClient(trx, clientId, { disabled_at: disabled ? clock() : null });
        const revoked = disabled ? await tokens.revokeClientSessions(trx, clientId, { meta, actorId }) : [];
        await audit.record(trx, {
          type: disabled ? 'client.disabled' : 'client.enabled',
          actorId,
          meta,
          details: { clientId, sessionsRevoked: revoked.length },
        });
        return { row: updated, revoked };
      });
      if (!row) throw noSuchClient();
      if (disabled) {
        await tokens.voidClientTokens(clientId);
        await tokens.denySessions(revoked);
      }
      return toClientView(row);
    },

    async listClients(): Promise<ClientView[]> {
      const rows = await listClients(db);
      return rows.map(toClientView);
    },

    /** RFC 6749 §4.3, §4.4 and §6. */
    async token(params: TokenParams, creds: ClientCredentials, meta: RequestMeta): Promise<TokenResponse> {
      if (!params.grant_type) throw new OAuthError('invalid_request', 'grant_type is required.');
      const grant = params.grant_type;
      if (!(GRANT_TYPES as readonly string[]).includes(grant)) {
        throw new OAuthError('unsupported_grant_type', `The grant type "${grant}" is not supported.`);
      }
      const client = await authenticate(creds);
      if (!client.grant_types.includes(grant)) {
        throw new OAuthError('unauthorized_client', `This client may not use the ${grant} grant.`);
      }
      const requested = parseScope(params.scope);

      switch (grant as GrantType) {
        case 'password': {
          if (!params.username || params.password === undefined) {
            throw new OAuthError('invalid_request', 'username and password are required.');
          }
          const scope = grantedScope(requested, client.scopes, null);
          const set = await login
            .passwordGrant(
              { username: params.username, password: params.password, mfaCode: params.mfa_code },
              { clientId: client.client_id, scope },
              meta,
            )
            .catch(grantError);
          return asResponse(set);
        }
        case 'refresh_token': {
          if (!params.refresh_token) throw new OAuthError('invalid_request', 'refresh_token is required.');
          if (requested) {
            // RFC 6749 §6: no scope beyond the original grant; narrowing is not offered
            const current = await tokens.findByRefreshToken(params.refresh_token);
            const original = current?.scope?.split(' ') ?? [];
            if (requested.some((s) => !original.includes(s))) {
              throw new OAuthError('invalid_scope', 'The scope exceeds what was originally granted.');
            }
          }
          const set = await tokens.rotate(params.refresh_token, client.client_id, meta).catch(grantError);
          return asResponse(set);
        }
        case 'client_credentials': {
          const scope = grantedScope(requested, client.scopes, client.scopes);
          const signed = await tokens.clientToken(client.client_id, scope);
          return asResponse({ accessToken: signed.token, expiresIn: ACCESS_TOKEN_TTL_SECONDS, scope });
        }
      }
    },

    /** RFC 7009. Always 200 for a well-formed request: an unknown token is as good as revoked. */
    async revoke(
      params: { token?: string | undefined; token_type_hint?: string | undefined },
      creds: ClientCredentials,
      meta: RequestMeta,
    ) {
      const client = await authenticate(creds);
      if (!params.token) throw new OAuthError('invalid_request', 'token is required.');
      const refresh = await tokens.findByRefreshToken(params.token);
      if (refresh) {
        if (refresh.clientId === client.client_id) {
          const { sessionId, userId } = refresh;
          const revoked = await inTransaction(db, (trx) =>
            tokens.revokeSession(trx, sessionId, 'revoked_by_client', { userId, meta }),
          );
          if (revoked) await tokens.denySessions([sessionId]);
        }
        return;
      }
      const principal = await verifier.verify(params.token).catch(() => undefined);
      if (!principal || principal.clientId !== client.client_id) return;
      if (principal.kind === 'client') {
        // no session behind it: the token itself goes on the deny list until it expires
        await tokens.denyClientToken(principal.tokenId, principal.expiresAt);
        await audit.record(db, {
          type: 'client_token.revoked',
          actorId: null,
          meta,
          details: { clientId: client.client_id, jti: principal.tokenId },
        });
        return;
      }
      if (principal.sessionId) {
        const sessionId = principal.sessionId;
        const revoked = await inTransaction(db, (trx) =>
          tokens.revokeSession(trx, sessionId, 'revoked_by_client', { userId: principal.subject, meta }),
        );
        if (revoked) await tokens.denySessions([sessionId]);
      }
    },

    /** RFC 7662, for confidential clients (resource servers). */
    async introspect(
      params: { token?: string | undefined },
      creds: ClientCredentials,
    ): Promise<Introspection> {
      const client = await authenticate(creds);
      if (client.secret_hash === null) {
        throw new OAuthError(
          'invalid_client',
          'Introspection needs an authenticated confidential client.',
          401,
        );
      }
      if (!params.token) throw new OAuthError('invalid_request', 'token is required.');
      const refresh = await tokens.findByRefreshToken(params.token);
      if (refresh) {
        // a refresh token is only described to the client it was issued to
        if (refresh.clientId !== client.client_id || refresh.status !== 'active') return { active: false };
        return {
          active: true,
          token_type: 'refresh_token',
          client_id: refresh.clientId,
          sub: refresh.userId,
          username: refresh.email,
          iat: Math.floor(refresh.issuedAt.getTime() / 1000),
          exp: Math.floor(refresh.expiresAt.getTime() / 1000),
          iss: issuer,
          ...(refresh.scope ? { scope: refresh.scope } : {}),
        };
      }
      const principal = await verifier.verify(params.token).catch(() => undefined);
      if (!principal) return { active: false };
      const claims = decodeJwt(params.token);
      return {
        active: true,
        token_type: 'Bearer',
        sub: principal.subject,
        exp: principal.expiresAt,
        jti: principal.tokenId,
        ...(typeof claims.iat === 'number' ? { iat: claims.iat } : {}),
        ...(typeof claims.iss === 'string' ? { iss: claims.iss } : {}),
        ...(typeof claims.aud === 'string' ? { aud: claims.aud } : {}),
        ...(principal.clientId ? { client_id: principal.clientId } : {}),
        ...(principal.scopes.length > 0 ? { scope: principal.scopes.join(' ') } : {}),
      };
    },
  };
}
