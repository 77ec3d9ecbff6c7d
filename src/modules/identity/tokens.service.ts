import type { Logger } from 'pino';
import type { Cache } from '../../platform/cache/cache.js';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/http/auth.js';
import type { AuditLog } from './audit.service.js';
import { createDenyList } from './deny-list.js';
import { addSeconds, type Clock, epochSeconds, type IdentityDb, type RequestMeta } from './context.js';
import { randomToken, sha256 } from './crypto.js';
import type { SigningKeys } from './keys.service.js';
import {
  deviceHistory,
  findLiveRefreshToken,
  findRefreshToken,
  findSession,
  insertRefreshToken as insertRefreshTokenRow,
  insertSession,
  liveSessionIds,
  liveSessionIdsOfClient,
  markSessionRevoked,
  spendRefreshToken,
  touchSession,
} from './sessions.queries.js';
import { IdentityErrors, RefreshErrors } from './identity.errors.js';
import { type NewDeviceSignIn, NewDeviceSignInEvent } from './identity.events.js';

/** Short, so a token outliving a logout, password change or disable does little harm (RFC 9700 §2.2.2). */
export const ACCESS_TOKEN_TTL_SECONDS = 300;
/** A refresh token unused this long expires: the idle timeout of a session. */
export const REFRESH_TOKEN_TTL_SECONDS = 14 * 86400;
/** A session (refresh-token family) ends this long after sign-in however often it is refreshed. */
export const SESSION_MAX_SECONDS = 60 * 86400;

export interface TokenSet {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
  scope: string | null;
}

export interface SessionUser {
  id: string;
  roles: string[];
}

export interface NewSession {
  clientId: string;
  scope: string | null;
  /** RFC 8176 authentication methods: `pwd`, `otp`. */
  amr: string[];
  meta: RequestMeta;
}

export type RevokeReason =
  | 'logout'
  | 'refresh_token_reused'
  | 'password_changed'
  | 'password_reset'
  | 'user_disabled'
  | 'account_closed'
  | 'client_disabled'
  | 'revoked_by_client'
  | 'mfa_changed';

export type Tokens = ReturnType<typeof createTokens>;

/**
 * Sessions, refresh-token families and access tokens. Refresh tokens are opaque, stored as
 * sha256, rotated on every use; presenting a spent one revokes its whole family (RFC 9700
 * §4.14.2). Revocations also go to a short-lived deny list in the cache so access tokens already
 * issued stop working where `checkPrincipal` is wired, instead of at their expiry.
 */
export function createTokens(deps: {
  db: IdentityDb;
  keys: SigningKeys;
  cache: Cache;
  clock: Clock;
  audit: AuditLog;
  logger: Logger;
  /** Longest a revocation made on another instance may go unseen here, with Redis (default 1 s). */
  denyBoundMs?: number;
}) {
  const { db, keys, cache, clock, audit, logger } = deps;
  // deny entries only need to outlive the access tokens issued before them
  const denyTtl = ACCESS_TOKEN_TTL_SECONDS + 60;
  const sessionKey = (sid: string) => `identity:deny:sid:${sid}`;
  /** Epoch second at or before which every access token of the user is void. */
  const voidBeforeKey = (userId: string) => `identity:void-before:${userId}`;
  const clientTokenKey = (jti: string) => `identity:deny:jti:${jti}`;
  const clientVoidKey = (clientId: string) => `identity:void-before:client:${clientId}`;
  const denyList = createDenyList({
    cache,
    logger,
    prefixes: ['identity:deny:', 'identity:void-before:'],
    ...(deps.denyBoundMs === undefined ? {} : { boundMs: deps.denyBoundMs }),
  });

  const invalid = () =>
    AppError.unauthenticated(
      RefreshErrors.invalid,
      'The refresh token is not valid, has expired or was revoked.',
    );

  async function insertRefreshToken(trx: IdentityDb, sessionId: string, sessionEnds: Date): Promise<string> {
    const token = `rt_${randomToken()}`;
    const idle = addSeconds(clock(), REFRESH_TOKEN_TTL_SECONDS);
    await insertRefreshTokenRow(trx, {
      session_id: sessionId,
      token_hash: sha256(token),
      expires_at: idle < sessionEnds ? idle : sessionEnds,
    });
    return token;
  }

  /** A token signed in the second its holder's tokens were voided (`key`'s mark) is dated after it. */
  async function datedAfter(key: string): Promise<{ notBefore?: number }> {
    const voidBefore = await cache.get<number>(key);
    return voidBefore === undefined ? {} : { notBefore: voidBefore + 1 };
  }

  async function accessToken(
    user: SessionUser,
    session: { id: string; clientId: string; scope: string | null; amr: string[]; authTime: Date },
  ) {
    return keys.sign(
      user.id,
      {
        roles: user.roles,
        client_id: session.clientId,
        sid: session.id,
        auth_time: epochSeconds(session.authTime),
        amr: session.amr,
        ...(session.scope ? { scope: session.scope } : {}),
      },
      await datedAfter(voidBeforeKey(user.id)),
    );
  }

  async function revokeSession(
    trx: IdentityDb,
    sessionId: string,
    reason: RevokeReason,
    context: { userId: string; meta?: RequestMeta; actorId?: string },
  ): Promise<boolean> {
    const revoked = await markSessionRevoked(trx, sessionId, reason, clock());
    if (!revoked) return false;
    // the deny-list entry is the caller's to write after commit (denySessions)
    await audit.record(trx, {
      type: 'token_family.revoked',
      userId: context.userId,
      actorId: context.actorId ?? null,
      ...(context.meta ? { meta: context.meta } : {}),
      details: { sessionId, reason },
    });
    return true;
  }

  /** The deny marks that can void this token, in the order `refuseDenied` reads them. */
  const denyKeys = (principal: Principal): string[] => {
    if (principal.kind === 'client')
      return [clientTokenKey(principal.tokenId), clientVoidKey(principal.subject)];
    return principal.sessionId
      ? [voidBeforeKey(principal.subject), sessionKey(principal.sessionId)]
      : [voidBeforeKey(principal.subject)];
  };

  /** Throws when the marks read for `denyKeys(principal)` void the token. */
  const refuseDenied = (principal: Principal, marks: readonly unknown[]): void => {
    const issuedAt = principal.expiresAt - ACCESS_TOKEN_TTL_SECONDS;
    if (principal.kind === 'client') {
      const [revoked, clientVoidBefore] = marks;
      if (revoked === true || (typeof clientVoidBefore === 'number' && issuedAt <= clientVoidBefore)) {
        throw IdentityErrors.tokenRevoked();
      }
      return;
    }
    const [voidBefore, sessionDenied] = marks;
    if (sessionDenied === true || (typeof voidBefore === 'number' && issuedAt <= voidBefore)) {
      throw IdentityErrors.tokenRevoked();
    }
  };

  /** After commit: refuse the access tokens of revoked sessions at once, not at their expiry. */
  async function denySessions(sessionIds: readonly string[]): Promise<void> {
    for (const sid of sessionIds) await denyList.write(sessionKey(sid), true, denyTtl);
  }

  return {
    /** Start a session (refresh-token family) and hand out its first token pair. */
    async startSession(user: SessionUser, input: NewSession): Promise<TokenSet & { sessionId: string }> {
      const now = clock();
      const ends = addSeconds(now, SESSION_MAX_SECONDS);
      const userAgent = input.meta.userAgent?.slice(0, 512) ?? null;
      const { sessionId, refreshToken } = await inTransaction(db, async (trx) => {
        const seen = await deviceHistory(trx, user.id, userAgent);
        const session = await insertSession(trx, {
          user_id: user.id,
          client_id: input.clientId,
          scope: input.scope,
          amr: input.amr,
          auth_time: now,
          last_used_at: now,
          expires_at: ends,
          ip: input.meta.ip,
          user_agent: userAgent,
        });
        if (seen.seenAny && !seen.seenAgent) {
          const data: NewDeviceSignIn = {
            userId: user.id,
            sessionId: session.id,
            userAgent,
            ip: input.meta.ip,
            at: now.toISOString(),
          };
          await enqueue(trx, 'identity', [NewDeviceSignInEvent.create(user.id, data)]);
        }
        return { sessionId: session.id, refreshToken: await insertRefreshToken(trx, session.id, ends) };
      });
      const access = await accessToken(user, { id: sessionId, ...input, authTime: now });
      return {
        sessionId,
        accessToken: access.token,
        tokenType: 'Bearer',
        expiresIn: ACCESS_TOKEN_TTL_SECONDS,
        refreshToken,
        scope: input.scope,
      };
    },

    /**
     * Exchange a refresh token for a new pair. `clientId` binds the token to the client it was
     * issued to (RFC 6749 §6); the JSON endpoints pass the first-party client.
     */
    async rotate(presented: string, clientId: string, meta: RequestMeta): Promise<TokenSet> {
      const now = clock();
      const found = await findRefreshToken(db, sha256(presented));
      if (!found || found.clientId !== clientId || found.revokedAt !== null) throw invalid();

      const reuse = async () => {
        const revoked = await inTransaction(db, (trx) =>
          revokeSession(trx, found.sessionId, 'refresh_token_reused', { userId: found.userId, meta }),
        );
        if (revoked) await denySessions([found.sessionId]);
        logger.warn(
          { sessionId: found.sessionId, userId: found.userId },
          'refresh token reused; family revoked',
        );
        return AppError.unauthenticated(
          RefreshErrors.reused,
          'This refresh token was already used. Every session token of this sign-in has been revoked; sign in again.',
        );
      };
      if (found.usedAt !== null) throw await reuse();
      if (found.expiresAt <= now || found.sessionEnds <= now) throw invalid();
      if (found.status !== 'active') {
        throw AppError.unauthenticated(RefreshErrors.accountDisabled, 'This account is disabled.');
      }

      const next = await inTransaction(db, async (trx) => {
        // the conditional update makes two concurrent uses of one token end in exactly one winner
        const spent = await spendRefreshToken(trx, found.tokenId, now);
        if (!spent) return undefined;
        await touchSession(trx, found.sessionId, now);
        return insertRefreshToken(trx, found.sessionId, found.sessionEnds);
      });
      if (next === undefined) throw await reuse();

      const access = await accessToken(
        { id: found.userId, roles: found.roles },
        { id: found.sessionId, clientId, scope: found.scope, amr: found.amr, authTime: found.authTime },
      );
      return {
        accessToken: access.token,
        tokenType: 'Bearer',
        expiresIn: ACCESS_TOKEN_TTL_SECONDS,
        refreshToken: next,
        scope: found.scope,
      };
    },

    /** The session a refresh token belongs to, if it is still live (introspection, revocation). */
    async findByRefreshToken(presented: string) {
      return findLiveRefreshToken(db, sha256(presented), clock());
    },

    /** Is this session live (not revoked, not past its end)? */
    async sessionOf(sessionId: string) {
      return findSession(db, sessionId);
    },

    /** Revoke a session inside the caller's transaction; call `denySessions` after commit. */
    revokeSession,
    denySessions,

    /**
     * Revoke every live session of a user, optionally keeping one (the caller's own), inside the
     * caller's transaction. Returns the revoked ids for `denySessions` after commit.
     */
    async revokeAllSessions(
      trx: IdentityDb,
      userId: string,
      reason: RevokeReason,
      context: { except?: string | undefined; meta?: RequestMeta; actorId?: string } = {},
    ): Promise<string[]> {
      const sessions = await liveSessionIds(trx, userId, context.except);
      for (const s of sessions) await revokeSession(trx, s.id, reason, { userId, ...context });
      return sessions.map((s) => s.id);
    },

    /** Access token for a client acting for itself (client_credentials): no user, no refresh token. */
    async clientToken(clientId: string, scope: string | null) {
      return keys.sign(
        clientId,
        { token_use: 'client', client_id: clientId, ...(scope ? { scope } : {}) },
        await datedAfter(clientVoidKey(clientId)),
      );
    },

    /**
     * The deny list, run by the platform verifier on every request (the module's `checkToken`).
     * User tokens: void when issued at or before the user's last role or status change, or when
     * their session was revoked. Client tokens: void when revoked (RFC 7009). An access token's
     * issue time is its `exp` minus the lifetime. On Redis the marks come from this instance's
     * copy while it is fresh (deny-list.ts: at most `denyBoundMs` behind), else from Redis.
     */
    checkPrincipal: (principal: Principal): void | Promise<void> => {
      // answered from the copy (a plain array): no promise, the guard lets the request on at once
      const marks = denyList.read(denyKeys(principal));
      if (Array.isArray(marks)) {
        refuseDenied(principal, marks);
        return undefined;
      }
      return marks.then((read) => {
        refuseDenied(principal, read);
      });
    },

    /**
     * After commit of a role or status change: every access token the user holds now is refused
     * by every route at once. Refresh still works where the session lives and returns a token
     * with the roles as they are now.
     */
    voidUserTokens: (userId: string) => denyList.write(voidBeforeKey(userId), epochSeconds(clock()), denyTtl),

    /**
     * After commit of a client's secret rotation or disabling: every client_credentials token it
     * holds now is refused by every route at once.
     */
    voidClientTokens: (clientId: string) =>
      denyList.write(clientVoidKey(clientId), epochSeconds(clock()), denyTtl),

    /** Revoke every live session a client holds, inside the caller's transaction; `denySessions` after commit. */
    async revokeClientSessions(
      trx: IdentityDb,
      clientId: string,
      context: { meta?: RequestMeta; actorId?: string } = {},
    ): Promise<string[]> {
      const sessions = await liveSessionIdsOfClient(trx, clientId);
      for (const s of sessions) {
        await revokeSession(trx, s.id, 'client_disabled', { userId: s.user_id, ...context });
      }
      return sessions.map((s) => s.id);
    },

    /** RFC 7009 for client_credentials tokens: refused from now until their expiry. */
    denyClientToken: (jti: string, expiresAt: number) =>
      denyList.write(clientTokenKey(jti), true, Math.max(1, expiresAt - epochSeconds(clock())) + 60),

    /** Whether this instance answers the deny list from its own copy right now; for tests. */
    denyList,
  };
}
