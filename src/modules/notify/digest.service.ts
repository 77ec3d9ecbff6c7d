import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import type { DeliveryService } from './delivery.service.js';
import { courseUpdatesOf, digestSubscribers, digestZones } from './digest.queries.js';
import { addDays, isTimeZone, localDayAndHour, zonedMidnight } from './schedule.js';
import type { NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The local hour at which a person's digest of their previous local day goes out. */
export const DIGEST_LOCAL_HOUR = 8;

/**
 * The daily course-update digest, sent in each person's local morning: for everyone who turned on
 * the email of `course_digest`, one notification (and so one mail, through the usual delivery
 * jobs) with every `course_updated` item of their previous local day, grouped by course. The local
 * day is in the time zone of their quiet hours (the only zone a person gives notify), else UTC.
 * The job runs hourly; each run serves the zones whose local hour is DIGEST_LOCAL_HOUR now. Its
 * dedupe key is `digest:<day>`, so a rerun (a retried job, a second worker's tick, an operator's
 * `{ day }`, which sends that local day to every zone at once) creates and mails nothing twice.
 */
export function createDigestService(deps: {
  db: Db;
  clock: Clock;
  delivery: DeliveryService;
  batchSize: number;
}) {
  const { db, delivery, batchSize } = deps;

  /** One zone's digests of one local day, in batches. */
  async function sendZone(zone: string, day: string): Promise<number> {
    const from = zonedMidnight(day, zone);
    const to = zonedMidnight(addDays(day, 1), zone);
    let after: string | null = null;
    let created = 0;
    for (;;) {
      const users = await digestSubscribers(db, zone, from, to, after, batchSize);
      if (users.length === 0) return created;
      after = users.at(-1) ?? null;
      // one short transaction per batch: the notifications and their delivery jobs commit together
      created += await inTransaction(db, async (trx) => {
        const updates = await courseUpdatesOf(trx, users, from, to);
        const byUser = new Map<string, Map<string, string[]>>();
        for (const u of updates) {
          const courses = byUser.get(u.recipient_id) ?? new Map<string, string[]>();
          byUser.set(u.recipient_id, courses);
          const payload = u.payload as { courseId?: unknown; changes?: unknown };
          const courseId = typeof payload.courseId === 'string' ? payload.courseId : '';
          const changes = Array.isArray(payload.changes) ? payload.changes.map(String) : [];
          const seen = courses.get(courseId) ?? [];
          courses.set(courseId, [...seen, ...changes.filter((c) => !seen.includes(c))]);
        }
        const items = await delivery.create(
          trx,
          [...byUser].map(([recipientId, courses]) => ({
            recipientId,
            kind: 'course_digest' as const,
            payload: { day, items: [...courses].map(([courseId, changes]) => ({ courseId, changes })) },
            dedupeKey: `digest:${day}`,
          })),
        );
        return items.length;
      });
    }
  }

  return {
    /**
     * Without `day`: the zones whose local time is DIGEST_LOCAL_HOUR now get their previous local
     * day. With `day`: that local day for every zone. Returns how many digests were created now.
     */
    async send(day?: string): Promise<number> {
      if (day !== undefined && (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))))
        throw new Error(`not a day: ${day}`);
      const now = deps.clock();
      let created = 0;
      for (const zone of await digestZones(db)) {
        // preferences accept real zones only; one that this runtime no longer knows is skipped
        if (!isTimeZone(zone)) continue;
        const local = localDayAndHour(now, zone);
        if (day === undefined && local.hour !== DIGEST_LOCAL_HOUR) continue;
        created += await sendZone(zone, day ?? addDays(local.day, -1));
      }
      return created;
    },
  };
}

export type DigestService = ReturnType<typeof createDigestService>;
