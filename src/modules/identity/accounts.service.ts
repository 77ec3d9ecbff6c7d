import type { Cache } from '../../platform/cache/cache.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { isUniqueViolation } from '../../platform/db/pg-errors.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { insertPendingApplication, latestApplicationOf } from './applications.queries.js';
import type { AuditLog } from './audit.service.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';
import { sha256 } from './crypto.js';
import { isDemoAddress } from './demo-domain.js';
import {
  type EmailChanged,
  EmailChangedEvent,
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
import type { Role } from './permissions.js';
import {
  findUserByEmail,
  findProfile,
  findUserById,
  insertUser,
  insertUserUnlessTaken,
  markEmailVerified,
  normalizeEmail,
  updateUser,
  type UserRow,
} from './users.queries.js';
import { type InstructorApplicationView, toApplicationView, toUserView, type UserView } from './views.js';
import { AccountErrors, IdentityErrors } from './identity.errors.js';

/** What register, resend and reset-request answer, whatever the address: nothing to enumerate. */
export const ACCEPTED_ANSWER = {
  status: 'accepted',
  message: 'If the address can receive mail from us, a message is on its way.',
} as const;

/** Mails of one kind to one address per hour; beyond it requests still answer the same, silently. */
const MAILS_PER_HOUR = 3;

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
    const row = await findProfile(db, userId);
    if (!row) throw IdentityErrors.userNotFound();
    return toUserView(row, row.mfa_enabled);
  }

  /** Change what others show of a user, and say so: the catalog keeps a copy for course pages. */
  async function updatePublicProfile(
    userId: string,
    set: { display_name?: string; headline?: string; bio?: string },
  ): Promise<void> {
    await inTransaction(db, async (trx) => {
      const row = await updateUser(trx, userId, { ...set, updated_at: clock() });
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

  /** Only the demo seed gives an account an address at the demo domain (`provisionDemo`). */
  function refuseDemoAddress(email: string, field: string): void {
    if (isDemoAddress(email)) throw IdentityErrors.emailDomainReserved(field);
  }

  /** A verified account with its roles, announced like a registration plus a verification. */
  async function createVerified(
    input: { email: string; password: string; displayName: string; roles: Role[] },
    meta: RequestMeta,
    fixedId?: string,
  ): Promise<UserView> {
    const email = normalizeEmail(input.email);
    checkPasswordPolicy(input.password, { email, field: '/password' });
    const passwordHash = await hashPassword(input.password);
    const userId = await inTransaction(db, async (trx) => {
      const user = await insertUser(trx, {
        ...(fixedId === undefined ? {} : { id: fixedId }),
        email,
        display_name: input.displayName.trim(),
        password_hash: passwordHash,
        roles: [...new Set<string>(['learner', ...input.roles])],
        email_verified_at: clock(),
      });
      await audit.record(trx, { type: 'user.registered', userId: user.id, meta });
      const registered: UserRegistered = { userId: user.id, email, displayName: user.display_name };
      const verified: UserVerified = { userId: user.id, email };
      await enqueue(trx, 'identity', [
        UserRegisteredEvent.create(user.id, registered),
        UserVerifiedEvent.create(user.id, verified),
      ]);
      return user.id;
    });
    return view(userId);
  }

  /** The signed-in owner's password, checked behind the login throttle (a stolen token cannot guess it). */
  async function confirmCurrentPassword(row: UserRow, password: string, meta: RequestMeta): Promise<void> {
    const ticket = await throttle.check(row.email, meta.ip);
    if (!(await verifyPassword(row.password_hash, password))) {
      await throttle.fail(ticket);
      throw AppError.forbidden(
        AccountErrors.currentPasswordIncorrect,
        'The current password is not correct.',
      );
    }
  }

  return {
    /**
     * Create an account and mail a verification link. A taken address gets the same answer and
     * its owner a notice instead, so the endpoint cannot be used to learn who has an account; the
     * password is hashed either way to keep the timing alike.
     */
    async register(input: { email: string; password: string; displayName: string }, meta: RequestMeta) {
      const email = normalizeEmail(input.email);
      refuseDemoAddress(email, '/body/email');
      checkPasswordPolicy(input.password, { email, field: '/body/password' });
      const passwordHash = await hashPassword(input.password);
      const created = await inTransaction(db, async (trx) => {
        const user = await insertUserUnlessTaken(trx, {
          email,
          display_name: input.displayName.trim(),
          password_hash: passwordHash,
        });
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

    /**
     * Create an account from code (an operator's script): the address counts as verified and the
     * roles are given at once. The demo domain is refused here too; the seed uses `provisionDemo`.
     */
    async provision(
      input: { email: string; password: string; displayName: string; roles: Role[] },
      meta: RequestMeta,
    ): Promise<UserView> {
      refuseDemoAddress(input.email, '/email');
      return createVerified(input, meta);
    },

    /**
     * `provision` for the demo seed alone, and for demo addresses alone: the one way to an
     * account at the demo domain. `id` fixes the account's id, so other modules' demo data can
     * name the demo people (only here: no other way in chooses an id).
     */
    async provisionDemo(
      input: { id?: string; email: string; password: string; displayName: string; roles: Role[] },
      meta: RequestMeta,
    ): Promise<UserView> {
      if (!isDemoAddress(input.email)) throw new Error(`not a demo address: ${input.email}`);
      return createVerified(input, meta, input.id);
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
        const user = await markEmailVerified(trx, id, clock());
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
      if (!row) throw IdentityErrors.userNotFound();
      await confirmCurrentPassword(row, input.currentPassword, meta);
      checkPasswordPolicy(input.newPassword, { email: row.email, field: '/body/newPassword' });
      const passwordHash = await hashPassword(input.newPassword);
      const revoked = await inTransaction(db, async (trx) => {
        await updateUser(trx, row.id, {
          password_hash: passwordHash,
          password_changed_at: clock(),
          updated_at: clock(),
        });
        await audit.record(trx, { type: 'password.changed', userId: row.id, meta });
        // a reset link mailed before the change must not undo it
        await oneTime.revokeOutstanding(trx, row.id, 'reset_password');
        return tokens.revokeAllSessions(trx, row.id, 'password_changed', { except: user.sessionId, meta });
      });
      await tokens.denySessions(revoked);
      mail.passwordChanged(row.email);
      return { otherSessionsRevoked: revoked.length };
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
      if (!user) throw IdentityErrors.userNotFound();
      // a link mailed before the account was disabled does not outlive the disable
      if (user.status !== 'active') throw oneTime.invalid();
      checkPasswordPolicy(input.newPassword, { email: user.email, field: '/body/newPassword' });
      const passwordHash = await hashPassword(input.newPassword);
      const revoked = await inTransaction(db, async (trx) => {
        await oneTime.consume(trx, input.token, 'reset_password');
        await updateUser(trx, user.id, {
          password_hash: passwordHash,
          password_changed_at: clock(),
          updated_at: clock(),
          email_verified_at: user.email_verified_at ?? clock(),
        });
        await audit.record(trx, { type: 'password.reset_completed', userId: user.id, meta });
        return tokens.revokeAllSessions(trx, user.id, 'password_reset', { meta });
      });
      await tokens.denySessions(revoked);
      mail.passwordChanged(user.email);
    },

    /**
     * Ask to move the account to another address. The password confirms the owner (behind the
     * login throttle); the new address gets a single-use link (24 h, the only one outstanding) and
     * the current one a notice. The answer is the same when the new address already has an
     * account (its owner is told instead), so this cannot be used to learn who has one; mails to
     * one address are limited like the other account mails.
     */
    async requestEmailChange(
      userId: string,
      input: { newEmail: string; password: string },
      meta: RequestMeta,
    ) {
      const row = await findUserById(db, userId);
      if (!row) throw IdentityErrors.userNotFound();
      const newEmail = normalizeEmail(input.newEmail);
      if (newEmail === row.email) {
        throw AppError.validation(AccountErrors.emailUnchanged, 'This is already your address.', [
          { field: '/body/newEmail', message: 'is your current address' },
        ]);
      }
      // before the password: a static rule, and a refused address should not cost a throttle try
      refuseDemoAddress(newEmail, '/body/newEmail');
      await confirmCurrentPassword(row, input.password, meta);
      if (await findUserByEmail(db, newEmail)) {
        if (await mailBudget('address_in_use', newEmail)) mail.addressInUse(newEmail);
        return ACCEPTED_ANSWER;
      }
      if (!(await mailBudget('change_email', newEmail))) return ACCEPTED_ANSWER;
      const token = await inTransaction(db, async (trx) => {
        await oneTime.revokeOutstanding(trx, userId, 'change_email');
        const issued = await oneTime.issue(trx, userId, 'change_email', newEmail);
        await audit.record(trx, { type: 'email.change_requested', userId, meta });
        return issued.token;
      });
      mail.emailChangeVerification(newEmail, row.display_name, token);
      mail.emailChangeRequested(row.email);
      return ACCEPTED_ANSWER;
    },

    /**
     * Move the account to the address the token was mailed to, which the mailbox has now proved
     * (verified from now). Links mailed to the old address before (reset, verification) die with
     * the change; sessions stay (tokens carry no address). 409 when the address has been taken
     * since the link went out.
     */
    async confirmEmailChange(token: string, meta: RequestMeta): Promise<UserView> {
      const taken = () =>
        AppError.conflict(AccountErrors.emailTaken, 'That address has been taken since the link was mailed.');
      const moved = await inTransaction(db, async (trx) => {
        const spent = await oneTime.consumeRow(trx, token, 'change_email');
        const user = await findUserById(trx, spent.user_id);
        // a link mailed before the account was disabled or closed does not outlive it
        if (!user || user.status !== 'active' || spent.new_email === null) throw oneTime.invalid();
        // a link mailed before the domain was reserved: refused, and the rollback leaves all as it was
        refuseDemoAddress(spent.new_email, '/body/token');
        if (await findUserByEmail(trx, spent.new_email)) throw taken();
        await updateUser(trx, user.id, {
          email: spent.new_email,
          email_verified_at: clock(),
          updated_at: clock(),
        });
        await oneTime.revokeOutstanding(trx, user.id, 'reset_password');
        await oneTime.revokeOutstanding(trx, user.id, 'verify_email');
        await audit.record(trx, { type: 'email.changed', userId: user.id, meta });
        const data: EmailChanged = { userId: user.id, email: spent.new_email };
        await enqueue(trx, 'identity', [EmailChangedEvent.create(user.id, data)]);
        return { userId: user.id, from: user.email };
      }).catch((err: unknown) => {
        // two links to one address confirmed at once: the unique index decides
        throw isUniqueViolation(err) ? taken() : err;
      });
      mail.emailChanged(moved.from);
      return view(moved.userId);
    },

    async applyForInstructor(
      userId: string,
      motivation: string,
      meta: RequestMeta,
    ): Promise<InstructorApplicationView> {
      const user = await findUserById(db, userId);
      if (!user) throw IdentityErrors.userNotFound();
      if (user.roles.includes('instructor')) {
        throw AppError.conflict(AccountErrors.alreadyInstructor, 'You are already an instructor.');
      }
      return inTransaction(db, async (trx) => {
        const row = await insertPendingApplication(trx, userId, motivation.trim());
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
      const row = await latestApplicationOf(db, userId);
      if (!row)
        throw AppError.notFound(AccountErrors.noApplication, 'You have not applied to become an instructor.');
      return toApplicationView(row);
    },
  };
}
