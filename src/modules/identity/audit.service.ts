import { toPage } from '../../platform/http/pagination.js';
import { insertAuditEvent, listAuditEvents } from './audit.queries.js';
import type { Clock, IdentityDb, RequestMeta } from './context.js';

export const AuditTypes = [
  'user.registered',
  'email.verified',
  'email.change_requested',
  'email.changed',
  'login.succeeded',
  'login.failed',
  'login.throttled',
  'logout',
  'password.changed',
  'password.reset_requested',
  'password.reset_completed',
  'mfa.enrolment_started',
  'mfa.enabled',
  'mfa.disabled',
  'mfa.failed',
  'mfa.recovery_code_used',
  'mfa.recovery_codes_regenerated',
  'token_family.revoked',
  'roles.changed',
  'instructor_application.submitted',
  'instructor_application.approved',
  'instructor_application.rejected',
  'user.disabled',
  'user.enabled',
  'user.closed',
  'user.data_export_requested',
  'user.data_export_downloaded',
  'signing_key.rotated',
  'client.created',
  'client.secret_rotated',
  'client.disabled',
  'client.enabled',
  'client_token.revoked',
] as const;
export type AuditType = (typeof AuditTypes)[number];

export interface AuditInput {
  type: AuditType;
  userId?: string | null;
  actorId?: string | null;
  meta?: RequestMeta;
  /** Never a secret: no passwords, tokens, codes. */
  details?: Record<string, unknown>;
}

export interface AuditEvent {
  id: string;
  occurredAt: string;
  type: string;
  userId: string | null;
  actorId: string | null;
  ip: string | null;
  userAgent: string | null;
  details: Record<string, unknown>;
}

export type AuditLog = ReturnType<typeof createAuditLog>;

export function createAuditLog(deps: { db: IdentityDb; clock: Clock }) {
  const { db, clock } = deps;
  return {
    /** Write in the caller's transaction when there is one, so the trail matches what happened. */
    async record(trx: IdentityDb, input: AuditInput): Promise<void> {
      await insertAuditEvent(trx, {
        occurred_at: clock(),
        type: input.type,
        user_id: input.userId ?? null,
        actor_id: input.actorId ?? null,
        ip: input.meta?.ip ?? null,
        user_agent: input.meta?.userAgent?.slice(0, 512) ?? null,
        details: JSON.stringify(input.details ?? {}),
      });
    },

    async list(filter: {
      userId?: string | undefined;
      type?: string | undefined;
      limit: number;
      cursor?: string | undefined;
    }) {
      const rows = await listAuditEvents(db, filter);
      return toPage(
        rows,
        filter.limit,
        (r) => [r.occurred_at.toISOString(), String(r.seq)],
        (r): AuditEvent => ({
          id: r.id,
          occurredAt: r.occurred_at.toISOString(),
          type: r.type,
          userId: r.user_id,
          actorId: r.actor_id,
          ip: r.ip,
          userAgent: r.user_agent,
          details: r.details,
        }),
      );
    },
  };
}
