import type { Updateable } from 'kysely';
import { keyset } from '../../platform/http/pagination.js';
import type { IdentityDb } from './context.js';
import type { ApplicationStatus, InstructorApplicationTable } from './tables.js';

/** Undefined when the user already has a pending application (one per user, partial unique index). */
export function insertPendingApplication(db: IdentityDb, userId: string, motivation: string) {
  return db
    .insertInto('identity.instructor_applications')
    .values({ user_id: userId, motivation })
    .onConflict((oc) => oc.column('user_id').where('status', '=', 'pending').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function latestApplicationOf(db: IdentityDb, userId: string) {
  return db
    .selectFrom('identity.instructor_applications')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function applicationExists(db: IdentityDb, id: string) {
  return db
    .selectFrom('identity.instructor_applications')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Decide a pending application; undefined when it is not pending (or does not exist). */
export function decidePendingApplication(
  db: IdentityDb,
  id: string,
  decision: Updateable<InstructorApplicationTable>,
) {
  return db
    .updateTable('identity.instructor_applications')
    .set(decision)
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .returningAll()
    .executeTakeFirst();
}

export function listApplications(
  db: IdentityDb,
  filter: { status?: ApplicationStatus | undefined; limit: number; cursor?: string | undefined },
) {
  let query = db.selectFrom('identity.instructor_applications').selectAll();
  if (filter.status) query = query.where('status', '=', filter.status);
  return keyset(query, {
    columns: ['created_at', 'id'],
    shape: ['date-time', 'uuid'],
    direction: 'asc',
    limit: filter.limit,
    cursor: filter.cursor,
  }).execute();
}
