import type { Cache } from '../../platform/cache/cache.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { AuditLog } from './audit.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';
import { sha256 } from './crypto.js';
import {
  type PasswordResetRequested,
  PasswordResetRequestedEvent,
  type ProfileUpdated,
  ProfileUpdatedEvent,
  type UserRegistered,
  UserRegisteredEvent,
  type UserVerified,
  UserVerifiedEvent,
} from './identity.events.js';
import type { IdentityMail } from './mail.js';
import { ONE_TIME_TOKEN_TTL, type OneTimeTokens } from './one-time-tokens.js';
import { checkPasswordPolicy, hashPassword, verifyPassword } from './passwords.js';
import type { LoginThrottle } from './throttle.js';
import type { Tokens } from './tokens.service.js';
import { findUserByEmail, findUserById, isMfaEnabled, normalizeEmail } from './users.queries.js';
import { toUserView, type UserView } from './views.js';

export const AccountErrors = {
  notFound: 'identity.user-not-found',
  currentPasswordIncorrect: 'identity.current-password-incorrect',
  applicationPending: 'identity.application-pending',
  alreadyInstructor: 'identity.already-instructor',
  noApplication: 'identity.application-not-found',
} as const;

/** What register, resend and reset-request answer, whatever the address: nothing to enumerate. */
export const ACCEPTED_ANSWER = {
  status: 'accepted',
  message: 'If the address can receive mail from us, a message is on its way.',
} as const;

/** Mails of one kind to one address per hour; beyond it requests still answer the same, silently. */
const MAILS_PER_HOUR = 3;

export interface InstructorApplicationView {
  id: string;
  userId: string;
  motivation: string;
  status: 'pending' | 'approved' | 'rejected';
  decisionNote: string | null;
  decidedAt: string | null;
  createdAt: string;
}

export type Accounts = ReturnType<typeof createAccounts>;

export function createAccounts(deps: {
  db: IdentityDb;
  cache: Cache;
  clock: Clock;
  audit: AuditLog;
  tokens: Tokens;
  mail: IdentityMail;
  throttle: LoginThrottle;
  oneTime: OneTimeTokens;
}) {
  const { db, cache, clock, audit, tokens, mail, throttle, oneTime } = deps;

  const mailBudget = async (kind: string, email: string) =>
    (await cache.incr(`identity:mail:${kind}:${sha256(email).slice(0, 32)}`, 3600)) <= MAILS_PER_HOUR;

  async function view(userId: string): Promise<UserView> {
    const row = await findUserById(db, userId);
    if (!row) throw AppError.notFound(AccountErrors.notFound, 'No such user.');
    return toUserView(row, await isMfaEnabled(db, userId));
  }

  /** Change what others show of a user, and say so: the catalog keeps a copy for course pages. */
  async function updatePublicProfile(
    userId: string,
    set: { display_name?: string; headline?: string; bio?: string },
  ): Promise<void> {
    await inTransaction(db, async (trx) => {
      const row = await trx
        .updateTable('identity.users')
        .set({ ...set, updated_at: clock() })
        .where('id', '=', userId)
        .returning(['id', 'display_name', 'headline', 'bio'])
        .executeTakeFirst();
      if (!row) return;
      const data: ProfileUpdated = {
        userId: row.id,
        displayName: row.display_name,
        headline: row.headline,
        bio: row.bio,
      };
      await enqueue(trx, 'identity', [ProfileUpdatedEvent.create(row.id, data)]);
    });
  }

  return {
    /**
     * Create an account and mail a verification link. A taken address gets the same answer and
     * its owner a notice instead, so the endpoint cannot be used to learn who has an account; the
     * password is hashed either way to keep the timing alike.
     */
    async register(input: { email: string; password: string; displayName: string }, meta: RequestMeta) {
      const email = normalizeEmail(input.email);
      checkPasswordPolicy(input.password, { email, field: '/body/password' });
      const passwordHash = await hashPassword(input.password);
      const created = await inTransaction(db, async (trx) => {
        const user = await trx
          .insertInto('identity.users')
          .values({ email, display_name: input.displayName.trim(), password_hash: passwordHash })
          .onConflict((oc) => oc.column('email').doNothing())
          .returning(['id', 'display_name'])
          .executeTakeFirst();
        if (!user) return undefined;
        const { token } = await oneTime.issue(trx, user.id, 'verify_email');
        await audit.record(trx, { type: 'user.registered', userId: user.id, meta });
        const data: UserRegistered = { userId: user.id, email, displayName: user.display_name };
        await enqueue(trx, 'identity', [UserRegisteredEvent.create(user.id, data)]);
        return { token, displayName: user.display_name };
      });
      if (created) mail.verification(email, created.displayName, created.token);
      else if (await mailBudget('already_registered', email)) mail.alreadyRegistered(email);
      return ACCEPTED_ANSWER;
    },

    async resendVerification(rawEmail: string) {
      const email = normalizeEmail(rawEmail);
      const user = await findUserByEmail(db, email);
      if (
        user &&
        user.email_verified_at === null &&
        user.status === 'active' &&
        (await mailBudget('verify', email))
      ) {
        const { token } = await oneTime.issue(db, user.id, 'verify_email');
        mail.verification(email, user.display_name, token);
      }
      return ACCEPTED_ANSWER;
    },

    async verifyEmail(token: string, meta: RequestMeta): Promise<UserView> {
      const userId = await inTransaction(db, async (trx) => {
        const id = await oneTime.consume(trx, token, 'verify_email');
        const user = await trx
          .updateTable('identity.users')
          .set({ email_verified_at: clock(), updated_at: clock() })
          .where('id', '=', id)
          .where('email_verified_at', 'is', null)
          .returning(['id', 'email'])
          .executeTakeFirst();
        if (user) {
          await audit.record(trx, { type: 'email.verified', userId: id, meta });
          const data: UserVerified = { userId: id, email: user.email };
          await enqueue(trx, 'identity', [UserVerifiedEvent.create(id, data)]);
        }
        return id;
      });
      return view(userId);
    },

    profile: view,

    async updateProfile(userId: string, patch: { displayName?: string | undefined }): Promise<UserView> {
      if (patch.displayName !== undefined) {
        await updatePublicProfile(userId, { display_name: patch.displayName.trim() });
      }
      return view(userId);
    },

    async setInstructorProfile(userId: string, input: { headline: string; bio: string }): Promise<UserView> {
      await updatePublicProfile(userId, { headline: input.headline.trim(), bio: input.bio.trim() });
      return view(userId);
    },

    /** Old password required; every other session is signed out (a thief's included). */
    async changePassword(
      user: { id: string; sessionId?: string | undefined },
      input: { currentPassword: string; newPassword: string },
      meta: RequestMeta,
    ): Promise<{ otherSessionsRevoked: number }> {
      const row = await findUserById(db, user.id);
      if (!row) throw AppError.notFound(AccountErrors.notFound, 'No such user.');
      const ticket = await throttle.check(row.email, meta.ip);
      if (!(await verifyPassword(row.password_hash, input.currentPassword))) {
        await throttle.fail(ticket);
        throw AppError.forbidden(
          AccountErrors.currentPasswordIncorrect,
          'The current password is not correct.',
        );
      }
      checkPasswordPolicy(input.newPassword, { email: row.email, field: '/body/newPassword' });
      const passwordHash = await hashPassword(input.newPassword);
      const revoked = await inTransaction(db, async (trx) => {
        await trx
          .updateTable('identity.users')
          .set({ password_hash: passwordHash, password_changed_at: clock(), updated_at: clock() })
          .where('id', '=', row.id)
          .execute();
        await audit.record(trx, { type: 'password.changed', userId: row.id, meta });
        return tokens.revokeAllSessions(trx, row.id, 'password_changed', { except: user.sessionId, meta });
      });
      mail.passwordChanged(row.email);
      return { otherSessionsRevoked: revoked };
    },

    async requestPasswordReset(rawEmail: string, meta: RequestMeta) {
      const email = normalizeEmail(rawEmail);
      const user = await findUserByEmail(db, email);
      if (user?.status === 'active' && (await mailBudget('reset', email))) {
        const issued = await inTransaction(db, async (trx) => {
          await oneTime.revokeOutstanding(trx, user.id, 'reset_password');
          const { token, expiresAt } = await oneTime.issue(trx, user.id, 'reset_password');
          await audit.record(trx, { type: 'password.reset_requested', userId: user.id, meta });
          const data: PasswordResetRequested = { userId: user.id, email, expiresAt: expiresAt.toISOString() };
          await enqueue(trx, 'identity', [PasswordResetRequestedEvent.create(user.id, data)]);
          return token;
        });
        mail.passwordReset(email, issued, ONE_TIME_TOKEN_TTL.reset_password / 60);
      }
      return ACCEPTED_ANSWER;
    },

    /**
     * Set a new password from a mailed token. Every session is revoked; the mailbox proved
     * control of the address, so it also counts as verified. MFA still applies at the next login.
     */
    async confirmPasswordReset(
      input: { token: string; newPassword: string },
      meta: RequestMeta,
    ): Promise<void> {
      const pending = await oneTime.peek(db, input.token, 'reset_password');
      const user = await findUserById(db, pending.user_id);
      if (!user) throw AppError.notFound(AccountErrors.notFound, 'No such user.');
      checkPasswordPolicy(input.newPassword, { email: user.email, field: '/body/newPassword' });
      const passwordHash = await hashPassword(input.newPassword);
      await inTransaction(db, async (trx) => {
        await oneTime.consume(trx, input.token, 'reset_password');
        await trx
          .updateTable('identity.users')
          .set({
            password_hash: passwordHash,
            password_changed_at: clock(),
            updated_at: clock(),
            email_verified_at: user.email_verified_at ?? clock(),
          })
          .where('id', '=', user.id)
          .execute();
        await audit.record(trx, { type: 'password.reset_completed', userId: user.id, meta });
        await tokens.revokeAllSessions(trx, user.id, 'password_reset', { meta });
      });
      mail.passwordChanged(user.email);
    },

    async applyForInstructor(
      userId: string,
      motivation: string,
      meta: RequestMeta,
    ): Promise<InstructorApplicationView> {
      const user = await findUserById(db, userId);
      if (!user) throw AppError.notFound(AccountErrors.notFound, 'No such user.');
      if (user.roles.includes('instructor')) {
        throw AppError.conflict(AccountErrors.alreadyInstructor, 'You are already an instructor.');
      }
      return inTransaction(db, async (trx) => {
        const row = await trx
          .insertInto('identity.instructor_applications')
          .values({ user_id: userId, motivation: motivation.trim() })
          // the partial unique index allows one pending application per user
          .onConflict((oc) => oc.column('user_id').where('status', '=', 'pending').doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!row) {
          throw AppError.conflict(
            AccountErrors.applicationPending,
            'You already have an application waiting for review.',
          );
        }
        await audit.record(trx, {
          type: 'instructor_application.submitted',
          userId,
          meta,
          details: { applicationId: row.id },
        });
        return toApplicationView(row);
      });
    },

    async latestApplication(userId: string): Promise<InstructorApplicationView> {
      const row = await db
        .selectFrom('identity.instructor_applications')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      if (!row)
        throw AppError.notFound(AccountErrors.noApplication, 'You have not applied to become an instructor.');
      return toApplicationView(row);
    },
  };
}

export const toApplicationView = (row: {
  id: string;
  user_id: string;
  motivation: string;
  status: 'pending' | 'approved' | 'rejected';
  decision_note: string | null;
  decided_at: Date | null;
  created_at: Date;
}): InstructorApplicationView => ({
  id: row.id,
  userId: row.user_id,
  motivation: row.motivation,
  status: row.status,
  decisionNote: row.decision_note,
  decidedAt: row.decided_at?.toISOString() ?? null,
  createdAt: row.created_at.toISOString(),
});
