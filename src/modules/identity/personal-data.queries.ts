import type { ExportSections } from '../../platform/personal-data.js';
import { pagedSection } from '../../platform/personal-data.js';
import type { IdentityDb } from './context.js';
import { unusedRecoveryCodes } from './mfa.queries.js';

/**
 * What identity holds about a user, for their copy of it: the account, its sign-ins, its
 * instructor applications, the audit log's entries about it, and the exports asked for. Never a
 * secret (password hash, TOTP secret, token or code hashes), and never who the operator was on
 * an entry an operator made (`byOperator` says that one did).
 */
export async function identitySections(db: IdentityDb, userId: string): Promise<ExportSections> {
  const [user, totp, recoveryCodes, applications, exports] = await Promise.all([
    db
      .selectFrom('identity.users')
      .select([
        'id',
        'email',
        'display_name',
        'email_verified_at',
        'roles',
        'status',
        'disabled_at',
        'disabled_reason',
        'headline',
        'bio',
        'password_changed_at',
        'created_at',
        'updated_at',
      ])
      .where('id', '=', userId)
      .executeTakeFirst(),
    db
      .selectFrom('identity.totp')
      .select(['confirmed_at', 'created_at'])
      .where('user_id', '=', userId)
      .executeTakeFirst(),
    unusedRecoveryCodes(db, userId),
    db
      .selectFrom('identity.instructor_applications')
      .select(['id', 'motivation', 'status', 'decided_at', 'decision_note', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute(),
    db
      .selectFrom('identity.data_exports')
      .select(['id', 'requested_at', 'expires_at'])
      .where('user_id', '=', userId)
      .orderBy('requested_at')
      .execute(),
  ]);
  return {
    account: user
      ? {
          id: user.id,
          email: user.email,
          displayName: user.display_name,
          emailVerifiedAt: user.email_verified_at,
          roles: user.roles,
          status: user.status,
          disabledAt: user.disabled_at,
          disabledReason: user.disabled_reason,
          headline: user.headline,
          bio: user.bio,
          passwordChangedAt: user.password_changed_at,
          createdAt: user.created_at,
          updatedAt: user.updated_at,
        }
      : null,
    twoFactor: {
      totpEnabled: Boolean(totp?.confirmed_at),
      totpEnabledAt: totp?.confirmed_at ?? null,
      recoveryCodesUnused: totp?.confirmed_at ? recoveryCodes : 0,
    },
    instructorApplications: applications.map((a) => ({
      id: a.id,
      motivation: a.motivation,
      status: a.status,
      decidedAt: a.decided_at,
      decisionNote: a.decision_note,
      createdAt: a.created_at,
    })),
    sessions: pagedSection(
      (after: { created_at: Date; id: string } | undefined, size) => {
        let q = db
          .selectFrom('identity.sessions')
          .select([
            'id',
            'client_id',
            'amr',
            'created_at',
            'last_used_at',
            'expires_at',
            'revoked_at',
            'revoked_reason',
            'ip',
            'user_agent',
          ])
          .where('user_id', '=', userId);
        if (after) {
          q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.created_at, after.id)));
        }
        return q.orderBy('created_at').orderBy('id').limit(size).execute();
      },
      (s) => ({
        id: s.id,
        client: s.client_id,
        signedInWith: s.amr,
        createdAt: s.created_at,
        lastUsedAt: s.last_used_at,
        expiresAt: s.expires_at,
        revokedAt: s.revoked_at,
        revokedReason: s.revoked_reason,
        ip: s.ip,
        userAgent: s.user_agent,
      }),
    ),
    auditLog: pagedSection(
      (after: { seq: number | string } | undefined, size) => {
        let q = db
          .selectFrom('identity.audit_events')
          .select(['seq', 'occurred_at', 'type', 'actor_id', 'ip', 'user_agent'])
          .where('user_id', '=', userId);
        if (after) q = q.where('seq', '>', after.seq);
        return q.orderBy('seq').limit(size).execute();
      },
      (e) => ({
        occurredAt: e.occurred_at,
        type: e.type,
        byOperator: e.actor_id !== null && e.actor_id !== userId,
        ip: e.ip,
        userAgent: e.user_agent,
      }),
    ),
    dataExports: exports.map((e) => ({ id: e.id, requestedAt: e.requested_at, expiresAt: e.expires_at })),
  };
}
