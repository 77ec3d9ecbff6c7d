import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { AuditLog } from './audit.service.js';
import { closeActiveUser, eraseAccountTraces } from './closure.queries.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';
import { AccountErrors, IdentityErrors } from './identity.errors.js';
import { type UserClosed, UserClosedEvent } from './identity.events.js';
import { deleteSecondFactors } from './mfa.queries.js';
import type { Mfa, SecondFactor } from './mfa.service.js';
import type { Tokens } from './tokens.service.js';
import { findUserById, type UserRow } from './users.queries.js';

export type Closure = ReturnType<typeof createClosure>;

const hasDuties = (user: Pick<UserRow, 'roles'>) => user.roles.some((role) => role !== 'learner');

/**
 * An owner closing their own account (账号注销), for good. In one transaction: the account's
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

  return {
    async close(
      userId: string,
      proof: { password: string } & SecondFactor,
      meta: RequestMeta,
    ): Promise<void> {
      const user = await findUserById(db, userId);
      if (!user) throw IdentityErrors.userNotFound();
      // an instructor's courses are sold to learners, and an admin runs the platform: an admin
      // takes the role away first, so nothing someone paid for is left without its owner
      if (hasDuties(user)) throw refused();
      await mfa.confirmOwner(userId, proof, meta);
      const now = clock();
      const revoked = await inTransaction(db, async (trx) => {
        const closed = await closeActiveUser(trx, userId, now);
        if (!closed) throw AppError.conflict(AccountErrors.closed, 'This account is not active.');
        // a role granted since the check above: the row is locked now, so this answer holds
        if (hasDuties(closed)) throw refused();
        await deleteSecondFactors(trx, userId);
        await eraseAccountTraces(trx, userId);
        const revoked = await tokens.revokeAllSessions(trx, userId, 'account_closed', { meta });
        await audit.record(trx, { type: 'user.closed', userId, meta });
        const data: UserClosed = { userId, closedAt: now.toISOString() };
        await enqueue(trx, 'identity', [UserClosedEvent.create(userId, data)]);
        return revoked;
      });
      await tokens.voidUserTokens(userId);
      await tokens.denySessions(revoked);
    },
  };
}
