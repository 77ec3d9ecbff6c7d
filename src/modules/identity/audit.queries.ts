import type { Insertable } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { IdentityDb } from './context.js';
import type { AuditEventTable } from './tables.js';

export function insertAuditEvent(db: IdentityDb, row: Insertable<AuditEventTable>) {
  return db.insertInto('identity.audit_events').values(row).execute();
}

/** Newest first, keyset by (occurred_at, seq) so events of one instant keep a stable order. */
export function listAuditEvents(
  db: IdentityDb,
  filter: {
    userId?: string | undefined;
    type?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  },
) {
  let query = db.selectFrom('identity.audit_events').selectAll();
  if (filter.userId) query = query.where('user_id', '=', filter.userId);
  if (filter.type) query = query.where('type', '=', filter.type);
  return keyset(query, {
    columns: ['occurred_at', 'seq'],
    shape: ['date-time', 'int64'],
    direction: 'desc',
    limit: filter.limit,
    cursor: filter.cursor,
  }).execute();
}
