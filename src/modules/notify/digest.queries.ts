import { type Kysely, sql } from 'kysely';
import type { NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

/** The zone of people who gave none (no quiet hours): their digest follows the UTC day. */
export const UTC = 'UTC';

/** The time zones of everyone who turned the digest's email on (their quiet hours' zone, else UTC). */
export async function digestZones(db: Db): Promise<string[]> {
  const rows = await db
    .selectFrom('notify.preferences as p')
    .leftJoin('notify.recipients as r', 'r.user_id', 'p.user_id')
    .select(sql<string>`coalesce(r.time_zone, ${UTC})`.as('zone'))
    .distinct()
    .where('p.kind', '=', 'course_digest')
    .where('p.channel', '=', 'email')
    .where('p.enabled', '=', true)
    .execute();
  return rows.map((r) => r.zone);
}

/**
 * People in `zone` who turned the course digest's email on and had course updates in [from, to),
 * in user-id order after `after` (keyset batches).
 */
export async function digestSubscribers(
  db: Db,
  zone: string,
  from: Date,
  to: Date,
  after: string | null,
  limit: number,
): Promise<string[]> {
  let q = db
    .selectFrom('notify.preferences as p')
    .leftJoin('notify.recipients as r', 'r.user_id', 'p.user_id')
    .select('p.user_id')
    .where(sql<string>`coalesce(r.time_zone, ${UTC})`, '=', zone)
    .where('p.kind', '=', 'course_digest')
    .where('p.channel', '=', 'email')
    .where('p.enabled', '=', true)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('notify.notifications as n')
          .select('n.id')
          .whereRef('n.recipient_id', '=', 'p.user_id')
          .where('n.kind', '=', 'course_updated')
          .where('n.created_at', '>=', from)
          .where('n.created_at', '<', to),
      ),
    );
  if (after !== null) q = q.where('p.user_id', '>', after);
  const rows = await q.orderBy('p.user_id').limit(limit).execute();
  return rows.map((r) => r.user_id);
}

/** Their course-update notifications of [from, to), oldest first. */
export function courseUpdatesOf(db: Db, userIds: string[], from: Date, to: Date) {
  return db
    .selectFrom('notify.notifications')
    .select(['recipient_id', 'payload', 'created_at'])
    .where('recipient_id', 'in', userIds)
    .where('kind', '=', 'course_updated')
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .orderBy('created_at')
    .execute();
}
