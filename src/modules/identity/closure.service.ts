import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { forgetUserAnswers } from '../../platform/http/idempotency.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { AuditLog } from './audit.service.js';
import { closeUser, eraseAccountTraces } from './closure.queries.js';
import { expireUserExports } from './data-exports.queries.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';
import { AccountErrors, AdminErrors, IdentityErrors } from './identity.errors.js';
import { type UserClosed, UserClosedEvent } from './identity.events.js';
import { deleteSecondFactors } from './mfa.queries.js';
import type { Mfa, SecondFactor } from './mfa.service.js';
import type { Tokens } from './tokens.service.js';
import { findUserById, type UserRow } from './users.queries.js';

export type Closure = ReturnType<typeof createClosure>;

const hasDuties = (user: Pick<UserRow, 'roles'>) => user.roles.some((role) => role !== 'learner');

/**
 * Closing an account (账号注销), for good: by its owner, or by an admin on the owner's request. In
 * one transaction: the account's
 * personal data is replaced (`closure.queries.ts`), its second factors, mailed tokens and
 * instructor applications deleted, its sessions revoked, and `identity.user.closed` enqueued for
 * the other modules' copies. After commit every token it holds is refused at once, as for a
 * disable. The row and the audit log stay, under the bare id.
 */
export function createClosure(deps: {
  db: IdentityDb;
  clock: Clock;
  audit: AuditLog;
  tokens: Tokens;
  mfa: Mfa;
}) {
  const { db, clock, audit, tokens, mfa } = deps;

  const refused = () =>
    AppError.conflict(
      AccountErrors.closeRefused,
      'An instructor or admin account cannot be closed by its owner: ask an admin to remove the role first.',
    );

  /**
   * The closing itself, in one transaction, then the deny list. `from`: the statuses the account
   * may be closed from (an operator may close a disabled one).
   */
  async function closeNow(
    userId: string,
    from: readonly ('active' | 'disabled')[],
    audited: { actorId?: string; meta: RequestMeta; reason?: string | null },
  ): Promise<void> {
    const now = clock();
    const revoked = await inTransaction(db, async (trx) => {
      const closed = await closeUser(trx, userId, now, from);
      if (!closed)
        throw AppError.conflict(AccountErrors.closed, 'This account is already closed or not active.');
      // a role granted since the caller's check: the row is locked now, so this answer holds
      if (hasDuties(closed)) throw refused();
      await deleteSecondFactors(trx, userId);
      await eraseAccountTraces(trx, userId);
      // its copies of the data go too: the purge job deletes the parts of an expired export
      await expireUserExports(trx, userId, now);
      // in a deployment split into services, another service's database keeps its answers until
      // the keys expire (IDEMPOTENCY retention, a day)
      await forgetUserAnswers(trx, userId);
      const revoked = await tokens.revokeAllSessions(trx, userId, 'account_closed', {
        meta: audited.meta,
        ...(audited.actorId ? { actorId: audited.actorId } : {}),
      });
      await audit.record(trx, {
        type: 'user.closed',
        userId,
        actorId: audited.actorId ?? null,
        meta: audited.meta,
        ...(audited.reason ? { details: { reason: audited.reason } } : {}),
      });
      const data: UserClosed = { userId, closedAt: now.toISOString() };
      await enqueue(trx, 'identity', [UserClosedEvent.create(userId, data)]);
      return revoked;
    });
    await tokens.voidUserTokens(userId);
    await tokens.denySessions(revoked);
  }

  async function closable(userId: string): Promise<UserRow> {
    const user = await findUserById(db, userId);
    if (!user) throw IdentityErrors.userNotFound();
    // an instructor's courses are sold to learners, and an admin runs the platform: an admin
    // takes the role away first, so nothing someone paid for is left without its owner
    if (hasDuties(user)) throw refused();
    return user;
  }

  return {
    /** The owner, proving it with the password (and the second factor while it is on). */
    async close(
      userId: string,
      proof: { password: string } & SecondFactor,
      meta: RequestMeta,
    ): Promise<void> {
      await mfa.confirmOwner(await closable(userId), proof, meta);
      await closeNow(userId, ['active'], { meta });
    },

    /**
     * An operator, on the owner's request made some other way (a support ticket, a lost
     * mailbox), or for an account disabled for good. Not their own account.
     */
    async closeByAdmin(
      actorId: string,
      userId: string,
      reason: string | null,
      meta: RequestMeta,
    ): Promise<void> {
      if (actorId === userId) {
        throw AppError.conflict(AdminErrors.selfLockout, 'Close your own account from your profile instead.');
      }
      await closable(userId);
      await closeNow(userId, ['active', 'disabled'], { actorId, meta, reason });
    },
  };
}
