import type { Kysely, Transaction } from 'kysely';
import type { Cache } from '../../platform/cache/cache.js';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { AppError } from '../../platform/errors.js';
import { enqueue, outboxRow } from '../../platform/messaging/outbox.js';
import type { OrderPaid, OrderRefunded } from '../commerce/index.js';
import type { CourseFacts } from './catalog-facts.js';
import type { EntitlementCopy } from './entitlements.cache.js';
import {
  deleteGrant,
  type GrantKey,
  grantedCourseIds,
  hasGrant,
  insertGrant,
  insertTombstone,
  lockOrder,
} from './entitlements.queries.js';
import { EntitlementGrantedEvent, EntitlementRevokedEvent } from './learning.events.js';
import { LearningErrors, NotFound } from './learning.errors.js';
import type { LearningTables } from './tables.js';

type Db = Kysely<LearningTables>;
type Trx = Transaction<LearningTables>;

/** A (user, course) pair whose cached entitlement answer must be dropped after the commit. */
export interface Touched {
  userId: string;
  courseId: string;
}

const nullIfEmpty = (sourceId: string) => (sourceId === '' ? null : sourceId);

/**
 * Who may open which course, by source: a paid order line, free enrolment, an admin. Access is
 * any grant; revoking one source leaves the others. Answers are cached per user and course
 * under a version number that every change bumps after its commit, so a reader that loaded the
 * old answer just before the commit can never put it back as current.
 */
export function createEntitlementsService(deps: {
  db: Db;
  cache: Cache;
  clock: Clock;
  facts: CourseFacts;
  cacheSeconds: number;
  /** Answers kept in this process, dropped on every instance by `invalidate`. */
  copy: EntitlementCopy;
}) {
  const { db, cache, clock, facts, cacheSeconds, copy } = deps;
  const versionKey = (userId: string, courseId: string) => `learning:entitled-v:${userId}:${courseId}`;
  const answerKey = (userId: string, courseId: string) => `learning:entitled:${userId}:${courseId}`;

  async function invalidate(touched: Touched[]): Promise<void> {
    // the version outlives every answer cached under an older one
    await Promise.all(
      touched.map((t) => cache.incr(versionKey(t.userId, t.courseId), Math.max(86_400, cacheSeconds * 10))),
    );
    // after the version: an instance that reloads once its copy is dropped finds the new answer
    await copy.drop(touched);
  }

  async function grant(trx: Trx, key: GrantKey, reason: string | null, at: Date): Promise<boolean> {
    const event = outboxRow(
      EntitlementGrantedEvent.create(key.courseId, {
        userId: key.userId,
        courseId: key.courseId,
        source: key.source,
        sourceId: nullIfEmpty(key.sourceId),
        grantedAt: at.toISOString(),
      }),
    );
    // the event is written by the grant's own statement, only when the grant is new
    return insertGrant(trx, { key, at, reason, event });
  }

  async function revoke(trx: Trx, key: GrantKey, reason: string, at: Date): Promise<boolean> {
    const removed = await deleteGrant(trx, key);
    if (!removed) return false;
    await enqueue(trx, 'learning', [
      EntitlementRevokedEvent.create(key.courseId, {
        userId: key.userId,
        courseId: key.courseId,
        source: key.source,
        sourceId: nullIfEmpty(key.sourceId),
        reason,
        revokedAt: at.toISOString(),
      }),
    ]);
    return true;
  }

  return {
    invalidate,

    /** One grant per line's course, unless that line was refunded first (its tombstone). */
    async applyOrderPaid(trx: Trx, data: OrderPaid): Promise<Touched[]> {
      // held before the grants' statements start, so their tombstone check sees the refunds before it
      await lockOrder(trx, data.orderId);
      const at = clock();
      const touched: Touched[] = [];
      for (const courseId of new Set(data.lines.map((l) => l.courseId))) {
        const key = { userId: data.userId, courseId, source: 'order' as const, sourceId: data.orderId };
        if (await grant(trx, key, null, at)) touched.push({ userId: data.userId, courseId });
      }
      return touched;
    },

    /** Tombstones first, so a paid event applied later grants nothing for these lines. */
    async applyOrderRefunded(trx: Trx, data: OrderRefunded): Promise<Touched[]> {
      await lockOrder(trx, data.orderId);
      const at = clock();
      const touched: Touched[] = [];
      for (const courseId of new Set(data.revokedCourseIds)) {
        await insertTombstone(trx, data.orderId, courseId, at);
        const key = { userId: data.userId, courseId, source: 'order' as const, sourceId: data.orderId };
        if (await revoke(trx, key, `refund ${data.refundId}`, at)) {
          touched.push({ userId: data.userId, courseId });
        }
      }
      return touched;
    },

    /** Free enrolment in a free, published course; enrolling twice changes nothing. */
    async enrolFree(userId: string, courseId: string): Promise<{ courseId: string; enrolled: boolean }> {
      const course = await facts.course(courseId, { fresh: true });
      if (!course || course.status !== 'published') throw NotFound.course();
      if (!course.isFree) {
        throw AppError.conflict(LearningErrors.courseNotFree, 'This course is not free; it must be bought.');
      }
      const key = { userId, courseId, source: 'free' as const, sourceId: '' };
      const enrolled = await inTransaction(db, (trx) => grant(trx, key, null, clock()));
      if (enrolled) await invalidate([{ userId, courseId }]);
      return { courseId, enrolled };
    },

    async adminGrant(input: { userId: string; courseId: string; reason: string }) {
      const course = await facts.course(input.courseId, { fresh: true });
      if (!course) throw NotFound.course();
      const key = { userId: input.userId, courseId: input.courseId, source: 'admin' as const, sourceId: '' };
      const granted = await inTransaction(db, (trx) => grant(trx, key, input.reason, clock()));
      if (granted) await invalidate([input]);
      return { userId: input.userId, courseId: input.courseId, granted };
    },

    /** Removes the admin's grant only: a paid order or free enrolment stays in place. */
    async adminRevoke(input: { userId: string; courseId: string; reason: string }) {
      const key = { userId: input.userId, courseId: input.courseId, source: 'admin' as const, sourceId: '' };
      const revoked = await inTransaction(db, (trx) => revoke(trx, key, input.reason, clock()));
      if (!revoked) throw NotFound.entitlement();
      await invalidate([input]);
      return {
        userId: input.userId,
        courseId: input.courseId,
        entitled: await hasGrant(db, input.userId, input.courseId),
      };
    },

    /**
     * The answer this process keeps, without waiting for anything: what `isEntitled` would answer
     * from the same copy, or undefined when the copy holds none or is not trusted now.
     */
    keptAnswer: (userId: string, courseId: string): boolean | undefined => copy.get(userId, courseId),

    async isEntitled(userId: string, courseId: string): Promise<boolean> {
      // this process's copy first: the warm content check makes no round trip
      const kept = copy.get(userId, courseId);
      if (kept !== undefined) return kept;
      const generation = copy.generation();
      // both keys in one round trip; an answer counts only under the current version
      const [version = 0, cached] = await Promise.all([
        cache.get<number>(versionKey(userId, courseId)),
        cache.get<{ v: number; e: boolean }>(answerKey(userId, courseId)),
      ]);
      if (cached?.v === version) {
        copy.set(userId, courseId, cached.e, generation);
        return cached.e;
      }
      const entitled = await hasGrant(db, userId, courseId);
      await cache.set(answerKey(userId, courseId), { v: version, e: entitled }, cacheSeconds);
      copy.set(userId, courseId, entitled, generation);
      return entitled;
    },

    ownedCourseIds: (userId: string, courseIds: string[]) => grantedCourseIds(db, userId, courseIds),
  };
}

export type EntitlementsService = ReturnType<typeof createEntitlementsService>;
