import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { toPage } from '../../platform/http/pagination.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import type { AuditLog } from './audit.service.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';
import {
  type InstructorApproved,
  InstructorApprovedEvent,
  type InstructorRejected,
  InstructorRejectedEvent,
  type RolesChanged,
  RolesChangedEvent,
  type UserDisabled,
  UserDisabledEvent,
  type UserEnabled,
  UserEnabledEvent,
} from './identity.events.js';
import type { SigningKeys } from './keys.service.js';
import type { Role } from './permissions.js';
import type { ApplicationStatus, UserStatus } from './tables.js';
import type { Tokens } from './tokens.service.js';
import { findUserById, isMfaEnabled, listUsers, updateUser, type UserRow } from './users.queries.js';
import { applicationExists, decidePendingApplication, listApplications } from './applications.queries.js';
import {
  type AdminUserView,
  type InstructorApplicationView,
  toAdminUserView,
  toApplicationView,
} from './views.js';
import { AccountErrors, AdminErrors, IdentityErrors } from './identity.errors.js';

export type Admin = ReturnType<typeof createAdmin>;

/** Operator actions on accounts. Every change is audited with the acting admin. */
export function createAdmin(deps: {
  db: IdentityDb;
  clock: Clock;
  audit: AuditLog;
  tokens: Tokens;
  keys: SigningKeys;
}) {
  const { db, clock, audit, tokens, keys } = deps;

  async function userOrThrow(trx: IdentityDb, id: string): Promise<UserRow> {
    const row = await findUserById(trx, id);
    if (!row) throw IdentityErrors.userNotFound();
    return row;
  }
  /** A closed account is closed for good: no status or role changes bring it back. */
  async function openUserOrThrow(trx: IdentityDb, id: string): Promise<UserRow> {
    const row = await userOrThrow(trx, id);
    if (row.status === 'closed') {
      throw AppError.conflict(AccountErrors.closed, 'This account is closed and cannot be changed.');
    }
    return row;
  }
  const adminView = async (row: UserRow) => toAdminUserView(row, await isMfaEnabled(db, row.id));

  return {
    /** Rotate the signing key (admin endpoint and `api.rotateSigningKey` for a CLI or a timer). */
    async rotateKeys(
      actorId: string | null,
      options: { prepublishSeconds?: number | undefined },
      meta: RequestMeta,
    ) {
      const rotated = await keys.rotate(
        options.prepublishSeconds === undefined ? {} : { prepublishSeconds: options.prepublishSeconds },
      );
      await audit.record(db, { type: 'signing_key.rotated', actorId, meta, details: { ...rotated } });
      return rotated;
    },

    async listUsers(filter: {
      q?: string | undefined;
      role?: string | undefined;
      status?: UserStatus | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      const rows = await listUsers(db, filter);
      return toPage(
        rows,
        filter.limit,
        (r) => [r.created_at.toISOString(), r.id],
        (r) => toAdminUserView(r, r.mfa_enabled),
      );
    },

    async getUser(id: string): Promise<AdminUserView> {
      return adminView(await userOrThrow(db, id));
    },

    /**
     * Refresh fails at once; access tokens stop at once where the deny list is checked (every
     * route of this process), else at expiry. The deny list is written after commit, so a disable
     * that fails blocks nothing; a retry of a committed disable writes it again.
     */
    async disableUser(
      actorId: string,
      id: string,
      reason: string | null,
      meta: RequestMeta,
    ): Promise<AdminUserView> {
      if (actorId === id)
        throw AppError.conflict(AdminErrors.selfLockout, 'You cannot disable your own account.');
      const { row, revoked } = await inTransaction(db, async (trx) => {
        const user = await openUserOrThrow(trx, id);
        if (user.status === 'disabled') return { row: user, revoked: [] };
        const updated = await updateUser(trx, id, {
          status: 'disabled',
          disabled_at: clock(),
          disabled_reason: reason,
          updated_at: clock(),
        });
        if (!updated) throw IdentityErrors.userNotFound();
        const revoked = await tokens.revokeAllSessions(trx, id, 'user_disabled', { meta, actorId });
        await audit.record(trx, { type: 'user.disabled', userId: id, actorId, meta, details: { reason } });
        const data: UserDisabled = { userId: id, disabledBy: actorId, reason };
        await enqueue(trx, 'identity', [UserDisabledEvent.create(id, data)]);
        return { row: updated, revoked };
      });
      await tokens.voidUserTokens(id);
      await tokens.denySessions(revoked);
      return adminView(row);
    },

    async enableUser(actorId: string, id: string, meta: RequestMeta): Promise<AdminUserView> {
      const changed = await inTransaction(db, async (trx) => {
        const user = await openUserOrThrow(trx, id);
        if (user.status === 'active') return undefined;
        const updated = await updateUser(trx, id, {
          status: 'active',
          disabled_at: null,
          disabled_reason: null,
          updated_at: clock(),
        });
        if (!updated) throw IdentityErrors.userNotFound();
        await audit.record(trx, { type: 'user.enabled', userId: id, actorId, meta });
        const data: UserEnabled = { userId: id, enabledBy: actorId };
        await enqueue(trx, 'identity', [UserEnabledEvent.create(id, data)]);
        return updated;
      });
      if (!changed) return adminView(await userOrThrow(db, id));
      // a status change binds every token at once; a disabled user holds none that are valid
      await tokens.voidUserTokens(id);
      return adminView(changed);
    },

    /**
     * Replace a user's roles. Everyone keeps `learner`; an admin cannot drop their own admin role.
     * After commit every access token of the user is refused (the roles are in the token); their
     * sessions live on, and a refresh returns a token with the new roles.
     */
    async setRoles(actorId: string, id: string, roles: Role[], meta: RequestMeta): Promise<AdminUserView> {
      const wanted = [...new Set<string>(['learner', ...roles])].sort();
      if (actorId === id && !wanted.includes('admin')) {
        throw AppError.conflict(AdminErrors.selfLockout, 'You cannot remove your own admin role.');
      }
      const changed = await inTransaction(db, async (trx) => {
        const user = await openUserOrThrow(trx, id);
        if ([...user.roles].sort().join() === wanted.join()) return undefined;
        const updated = await updateUser(trx, id, { roles: wanted, updated_at: clock() });
        if (!updated) throw IdentityErrors.userNotFound();
        await audit.record(trx, {
          type: 'roles.changed',
          userId: id,
          actorId,
          meta,
          details: { from: user.roles, to: wanted },
        });
        const data: RolesChanged = { userId: id, roles: wanted, changedBy: actorId };
        await enqueue(trx, 'identity', [RolesChangedEvent.create(id, data)]);
        return updated;
      });
      if (!changed) return adminView(await userOrThrow(db, id));
      await tokens.voidUserTokens(id);
      return adminView(changed);
    },

    async listApplications(filter: {
      status?: ApplicationStatus | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      const rows = await listApplications(db, filter);
      return toPage(rows, filter.limit, (r) => [r.created_at.toISOString(), r.id], toApplicationView);
    },

    /** Approve (grants the instructor role) or reject a pending application. */
    async decideApplication(
      actorId: string,
      applicationId: string,
      decision: 'approved' | 'rejected',
      note: string | null,
      meta: RequestMeta,
    ): Promise<InstructorApplicationView> {
      const { view, rolesChangedFor } = await inTransaction(db, async (trx) => {
        const decided = await decidePendingApplication(trx, applicationId, {
          status: decision,
          decided_by: actorId,
          decided_at: clock(),
          decision_note: note,
        });
        if (!decided) {
          if (!(await applicationExists(trx, applicationId)))
            throw AppError.notFound(AdminErrors.applicationNotFound, 'No such application.');
          throw AppError.conflict(
            AdminErrors.applicationDecided,
            'This application has already been decided.',
          );
        }
        const userId = decided.user_id;
        await audit.record(trx, {
          type:
            decision === 'approved' ? 'instructor_application.approved' : 'instructor_application.rejected',
          userId,
          actorId,
          meta,
          details: { applicationId, note },
        });
        let rolesChangedFor: string | undefined;
        if (decision === 'approved') {
          const user = await userOrThrow(trx, userId);
          if (!user.roles.includes('instructor')) {
            rolesChangedFor = userId;
            const roles = [...user.roles, 'instructor'].sort();
            await updateUser(trx, userId, { roles, updated_at: clock() });
            await audit.record(trx, {
              type: 'roles.changed',
              userId,
              actorId,
              meta,
              details: { from: user.roles, to: roles },
            });
          }
          const data: InstructorApproved = {
            userId,
            applicationId,
            approvedBy: actorId,
            displayName: user.display_name,
          };
          await enqueue(trx, 'identity', [InstructorApprovedEvent.create(userId, data)]);
        } else {
          const data: InstructorRejected = { userId, applicationId, rejectedBy: actorId, note };
          await enqueue(trx, 'identity', [InstructorRejectedEvent.create(userId, data)]);
        }
        return { view: toApplicationView(decided), rolesChangedFor };
      });
      // the applicant's tokens carry the old roles; a refresh brings the instructor role
      if (rolesChangedFor) await tokens.voidUserTokens(rolesChangedFor);
      return view;
    },
  };
}
