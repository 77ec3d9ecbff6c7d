import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import type { DeliveryService } from './delivery.service.js';
import { courseUpdatesOf, digestSubscribers } from './digest.queries.js';
import type { NotifyTables } from './tables.js';

type Db = Kysely<NotifyTables>;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The UTC day before `now`, as YYYY-MM-DD: what the 00:05 UTC run sends. */
export const previousUtcDay = (now: Date): string =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1))
    .toISOString()
    .slice(0, 10);

/**
 * The daily course-update digest: for each person who turned on the email of `course_digest`,
 * one notification (and so one mail, through the usual delivery jobs) with every `course_updated`
 * item of that UTC day, grouped by course. Its dedupe key is `digest:<day>`, so a rerun of a day
 * (a retried job, a second worker's tick, an operator) creates and mails nothing twice.
 */
export function createDigestService(deps: {
  db: Db;
  clock: Clock;
  delivery: DeliveryService;
  batchSize: number;
}) {
  const { db, delivery, batchSize } = deps;
  return {
    /** Returns how many digests were created now (0 on a rerun of a finished day). */
    async send(day: string = previousUtcDay(deps.clock())): Promise<number> {
      if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)))
        throw new Error(`not a day: ${day}`);
      const from = new Date(`${day}T00:00:00.000Z`);
      const to = new Date(from.getTime() + 86_400_000);
      let after: string | null = null;
      let created = 0;
      for (;;) {
        const users = await digestSubscribers(db, from, to, after, batchSize);
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
    },
  };
}

export type DigestService = ReturnType<typeof createDigestService>;
