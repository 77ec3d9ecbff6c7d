import type { Cache } from '../../platform/cache/cache.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import type { Principal } from '../../platform/http/auth.js';
import type { AuditLog } from './audit.service.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';
import { randomToken, sha256 } from './crypto.js';
import type { Mfa, SecondFactor } from './mfa.service.js';
import { hashPassword, needsRehash, verifyAgainstDummy, verifyPassword } from './passwords.js';
import type { LoginThrottle, ThrottleTicket } from './throttle.js';
import type { Tokens, TokenSet } from './tokens.service.js';
import {
  findUserByEmail,
  findUserById,
  isMfaEnabled,
  normalizeEmail,
  updateUser,
  type UserRow,
} from './users.queries.js';
import { LoginErrors, THROTTLED_CODE } from './identity.errors.js';

export const MFA_CHALLENGE_TTL_SECONDS = 300;
const MFA_ATTEMPTS_PER_CHALLENGE = 5;

export type LoginResult =
  | ({ status: 'authenticated' } & TokenSet)
  | { status: 'mfa_required'; mfaToken: string; expiresIn: number; methods: ('totp' | 'recovery_code')[] };

interface Challenge {
  userId: string;
  clientId: string;
  scope: string | null;
  ticket: ThrottleTicket;
  /** Epoch ms; a password change or reset after it voids the challenge. */
  issuedAt: number;
}

export interface SessionTarget {
  clientId: string;
  scope: string | null;
}

export type Login = ReturnType<typeof createLogin>;

export function createLogin(deps: {
  db: IdentityDb;
  cache: Cache;
  clock: Clock;
  audit: AuditLog;
  throttle: LoginThrottle;
  tokens: Tokens;
  mfa: Mfa;
}) {
  const { db, cache, clock, audit, throttle, tokens, mfa } = deps;
  // one answer for "no such account" and "wrong password": nothing to enumerate
  const invalidCredentials = () =>
    AppError.unauthenticated(LoginErrors.invalidCredentials, 'The email address or password is not correct.');
  const challengeKey = (token: string) => `identity:mfa-challenge:${sha256(token)}`;

  /** Password check behind the throttle, with a dummy hash when the account does not exist. */
  async function checkPassword(rawEmail: string, password: string, meta: RequestMeta) {
    const email = normalizeEmail(rawEmail);
    let ticket: ThrottleTicket;
    try {
      ticket = await throttle.check(email, meta.ip);
    } catch (err) {
      if (err instanceof AppError && err.code === THROTTLED_CODE) {
        await audit.record(db, {
          type: 'login.throttled',
          meta,
          details: { retryAfterSeconds: err.details.retryAfterSeconds },
        });
      }
      throw err;
    }
    const found = await findUserByEmail(db, email);
    // a closed account is nobody: its stand-in address signs no one in, at the same cost
    const user = found?.status === 'closed' ? undefined : found;
    const ok = user ? await verifyPassword(user.password_hash, password) : await verifyAgainstDummy(password);
    if (!user || !ok) {
      await throttle.fail(ticket);
      await audit.record(db, {
        type: 'login.failed',
        userId: user?.id ?? null,
        meta,
        details: { reason: user ? 'wrong_password' : 'unknown_account' },
      });
      throw invalidCredentials();
    }
    if (user.status !== 'active') {
      await audit.record(db, {
        type: 'login.failed',
        userId: user.id,
        meta,
        details: { reason: 'account_disabled' },
      });
      throw AppError.forbidden(LoginErrors.accountDisabled, 'This account is disabled. Contact support.');
    }
    if (needsRehash(user.password_hash)) {
      const rehashed = await hashPassword(password);
      await updateUser(db, user.id, { password_hash: rehashed });
    }
    return { user, ticket };
  }

  async function finish(
    user: Pick<UserRow, 'id' | 'roles'>,
    ticket: ThrottleTicket,
    target: SessionTarget,
    amr: string[],
    meta: RequestMeta,
  ): Promise<TokenSet> {
    await throttle.succeed(ticket);
    const issued = await tokens.startSession(user, { ...target, amr, meta });
    await audit.record(db, {
      type: 'login.succeeded',
      userId: user.id,
      meta,
      details: { sessionId: issued.sessionId, clientId: target.clientId, amr },
    });
    const { sessionId: _sessionId, ...set } = issued;
    return set;
  }

  return {
    /** First-party sign-in: tokens, or a challenge when the account has a second factor. */
    async login(
      input: { email: string; password: string },
      target: SessionTarget,
      meta: RequestMeta,
    ): Promise<LoginResult> {
      const { user, ticket } = await checkPassword(input.email, input.password, meta);
      if (await isMfaEnabled(db, user.id)) {
        const mfaToken = `mfa_${randomToken()}`;
        const challenge: Challenge = { userId: user.id, ...target, ticket, issuedAt: clock().getTime() };
        await cache.set(challengeKey(mfaToken), challenge, MFA_CHALLENGE_TTL_SECONDS);
        return {
          status: 'mfa_required',
          mfaToken,
          expiresIn: MFA_CHALLENGE_TTL_SECONDS,
          methods: ['totp', 'recovery_code'],
        };
      }
      return { status: 'authenticated', ...(await finish(user, ticket, target, ['pwd'], meta)) };
    },

    /** Second step of a sign-in: the challenge from `login` plus a TOTP or recovery code. */
    async completeMfa(mfaToken: string, factor: SecondFactor, meta: RequestMeta): Promise<TokenSet> {
      const key = challengeKey(mfaToken);
      const challenge = await cache.get<Challenge>(key);
      const gone = () =>
        AppError.unauthenticated(
          LoginErrors.mfaChallengeInvalid,
          'The sign-in challenge has expired or is not valid; sign in again.',
        );
      if (!challenge) throw gone();
      if ((await cache.incr(`${key}:attempts`, MFA_CHALLENGE_TTL_SECONDS)) > MFA_ATTEMPTS_PER_CHALLENGE) {
        await cache.del(key);
        throw gone();
      }
      await throttle.assertOpen(challenge.ticket).catch(async (err: unknown) => {
        await cache.del(key);
        throw err;
      });
      try {
        // a recovery code is a one-time password too, hence amr "otp" either way
        await mfa.spendSecondFactor(challenge.userId, factor, meta);
      } catch (err) {
        await mfa.failed(challenge.ticket, challenge.userId, meta);
        throw err;
      }
      await cache.del(key);
      const user = await findUserById(db, challenge.userId);
      if (user?.status !== 'active')
        throw AppError.forbidden(LoginErrors.accountDisabled, 'This account is disabled.');
      // the password that opened the challenge was changed or reset since: it proves nothing now
      if (user.password_changed_at.getTime() >= challenge.issuedAt) throw gone();
      return finish(user, challenge.ticket, challenge, ['pwd', 'otp'], meta);
    },

    /**
     * RFC 6749 §4.3 resource-owner password grant, for first-party clients only. An account with
     * MFA must send `mfa_code` too: the grant has no room for a challenge round-trip.
     */
    async passwordGrant(
      input: { username: string; password: string; mfaCode?: string | undefined },
      target: SessionTarget,
      meta: RequestMeta,
    ): Promise<TokenSet> {
      const { user, ticket } = await checkPassword(input.username, input.password, meta);
      if (await isMfaEnabled(db, user.id)) {
        if (input.mfaCode === undefined) {
          throw AppError.unauthenticated(
            LoginErrors.mfaRequired,
            'This account uses two-factor authentication; send mfa_code.',
          );
        }
        try {
          await mfa.spendSecondFactor(user.id, { code: input.mfaCode }, meta);
        } catch (err) {
          await mfa.failed(ticket, user.id, meta);
          throw err;
        }
        return finish(user, ticket, target, ['pwd', 'otp'], meta);
      }
      return finish(user, ticket, target, ['pwd'], meta);
    },

    /** Revoke the caller's refresh-token family: by the access token's `sid`, or by a refresh token. */
    async logout(
      principal: Principal | undefined,
      refreshToken: string | undefined,
      clientId: string,
      meta: RequestMeta,
    ) {
      let sessionId = principal?.kind === 'user' ? principal.sessionId : undefined;
      let userId = principal?.subject;
      if (!sessionId && refreshToken) {
        const found = await tokens.findByRefreshToken(refreshToken);
        if (found?.clientId === clientId) {
          sessionId = found.sessionId;
          userId = found.userId;
        }
      }
      if (!sessionId && !refreshToken) {
        throw AppError.validation(
          LoginErrors.logoutNeedsToken,
          'Send an access token or the refresh token to sign out.',
          [{ field: '/body/refreshToken', message: 'is required without an access token' }],
        );
      }
      if (sessionId && userId) {
        const sid = sessionId;
        const uid = userId;
        const revoked = await inTransaction(db, async (trx) => {
          if (!(await tokens.revokeSession(trx, sid, 'logout', { userId: uid, meta }))) return false;
          await audit.record(trx, { type: 'logout', userId: uid, meta, details: { sessionId: sid } });
          return true;
        });
        if (revoked) await tokens.denySessions([sid]);
      }
    },
  };
}
