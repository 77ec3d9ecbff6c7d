import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { keyset, toPage } from '../../platform/http/pagination.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { type InstructorApplicationView, toApplicationView } from './accounts.service.js';
import type { AuditLog } from './audit.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';
import {
  type InstructorApproved,
  InstructorApprovedEvent,
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
import { findUserById, isMfaEnabled, listUsers, type UserRow } from './users.queries.js';
import { type AdminUserView, toAdminUserView } from './views.js';

export const AdminErrors = {
  userNotFound: 'identity.user-not-found',
  selfLockout: 'identity.cannot-lock-out-self',
  applicationNotFound: 'identity.application-not-found',
  applicationDecided: 'identity.application-already-decided',
} as const;

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
    if (!row) throw AppError.notFound(AdminErrors.userNotFound, 'No such user.');
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
        (r) => toAdminUserView(r, Boolean(r.mfa_enabled)),
      );
    },

    async getUser(id: string): Promise<AdminUserView> {
      return adminView(await userOrThrow(db, id));
    },

    /** Refresh fails at once; access tokens stop where the deny list is checked, else at expiry. */
    async disableUser(
      actorId: string,
      id: string,
      reason: string | null,
      meta: RequestMeta,
    ): Promise<AdminUserView> {
      if (actorId === id)
        throw AppError.conflict(AdminErrors.selfLockout, 'You cannot disable your own account.');
      const row = await inTransaction(db, async (trx) => {
        const user = await userOrThrow(trx, id);
        if (user.status === 'disabled') return user;
        const updated = await trx
          .updateTable('identity.users')
          .set({ status: 'disabled', disabled_at: clock(), disabled_reason: reason, updated_at: clock() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await tokens.revokeAllSessions(trx, id, 'user_disabled', { meta, actorId });
        await audit.record(trx, { type: 'user.disabled', userId: id, actorId, meta, details: { reason } });
        const data: UserDisabled = { userId: id, disabledBy: actorId, reason };
        await enqueue(trx, 'identity', [UserDisabledEvent.create(id, data)]);
        return updated;
      });
      await tokens.denyUser(id);
      return adminView(row);
    },

    async enableUser(actorId: string, id: string, meta: RequestMeta): Promise<AdminUserView> {
      const row = await inTransaction(db, async (trx) => {
        const user = await userOrThrow(trx, id);
        if (user.status === 'active') return user;
        const updated = await trx
          .updateTable('identity.users')
          .set({ status: 'active', disabled_at: null, disabled_reason: null, updated_at: clock() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit.record(trx, { type: 'user.enabled', userId: id, actorId, meta });
        const data: UserEnabled = { userId: id, enabledBy: actorId };
        await enqueue(trx, 'identity', [UserEnabledEvent.create(id, data)]);
        return updated;
      });
      await tokens.allowUser(id);
      return adminView(row);
    },

    /** Replace a user's roles. Everyone keeps `learner`; an admin cannot drop their own admin role. */
    async setRoles(actorId: string, id: string, roles: Role[], meta: RequestMeta): Promise<AdminUserView> {
      const wanted = [...new Set<string>(['learner', ...roles])].sort();
      if (actorId === id && !wanted.includes('admin')) {
        throw AppError.conflict(AdminErrors.selfLockout, 'You cannot remove your own admin role.');
      }
      const row = await inTransaction(db, async (trx) => {
        const user = await userOrThrow(trx, id);
        if ([...user.roles].sort().join() === wanted.join()) return user;
        const updated = await trx
          .updateTable('identity.users')
          .set({ roles: wanted, updated_at: clock() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow();
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
      return adminView(row);
    },

    async listApplications(filter: {
      status?: ApplicationStatus | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      let query = db.selectFrom('identity.instructor_applications').selectAll();
      if (filter.status) query = query.where('status', '=', filter.status);
      const rows = await keyset(query, {
        columns: ['created_at', 'id'],
        direction: 'asc',
        limit: filter.limit,
        cursor: filter.cursor,
      }).execute();
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
      return inTransaction(db, async (trx) => {
        const decided = await trx
          .updateTable('identity.instructor_applications')
          .set({ status: decision, decided_by: actorId, decided_at: clock(), decision_note: note })
          .where('id', '=', applicationId)
          .where('status', '=', 'pending')
          .returningAll()
          .executeTakeFirst();
        if (!decided) {
          const exists = await trx
            .selectFrom('identity.instructor_applications')
            .select('id')
            .where('id', '=', applicationId)
            .executeTakeFirst();
          if (!exists) throw AppError.notFound(AdminErrors.applicationNotFound, 'No such application.');
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
        if (decision === 'approved') {
          const user = await userOrThrow(trx, userId);
          if (!user.roles.includes('instructor')) {
            const roles = [...user.roles, 'instructor'].sort();
            await trx
              .updateTable('identity.users')
              .set({ roles, updated_at: clock() })
              .where('id', '=', userId)
              .execute();
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
        }
        return toApplicationView(decided);
      });
    },
  };
}
