import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import type { Viewer } from './access.service.js';
import { NotFound } from './community.errors.js';
import type { Votes } from './community.schemas.js';
import { can } from './permissions.js';
import type { CommunityTables, SubjectType } from './tables.js';
import { countVotes, deleteVote, driftedScores, storeScore, upsertVote } from './votes.queries.js';

type Db = Kysely<CommunityTables>;

/** z for a 95 % confidence interval: the usual choice for "best" orders (Evan Miller). */
export const WILSON_Z = 1.96;

/**
 * Lower bound of the Wilson score interval of the share of helpful votes: a review with 9 of 10
 * helpful ranks above one with 1 of 1, because one vote says little. 0 without votes.
 */
export function wilsonLowerBound(up: number, down: number, z = WILSON_Z): number {
  const n = up + down;
  if (n === 0) return 0;
  const p = up / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p) + z2 / (4 * n)) / n)) / (1 + z2 / n);
}

/**
 * Helpful votes on reviews and comments: one per user and subject, PUT sets it and DELETE clears
 * it, both idempotent. Each vote locks its subject's row first, so concurrent votes on one
 * subject apply one after another and the stored counts and Wilson score are recounted from the
 * votes themselves (never incremented, so a repeated vote changes nothing).
 */
export function createVotesService(deps: {
  db: Db;
  clock: Clock;
  /** After the commit: the subject's order in public lists changed. */
  changed: (type: SubjectType, parentKey: string) => Promise<void>;
}) {
  const { db, clock, changed } = deps;

  async function lockSubject(trx: Db, type: SubjectType, id: string, viewer: Viewer) {
    const row =
      type === 'review'
        ? await trx
            .selectFrom('community.reviews')
            .select(['id', 'status', 'author_id', 'course_id as key'])
            .where('id', '=', id)
            .forUpdate()
            .executeTakeFirst()
        : await trx
            .selectFrom('community.comments')
            .select(['id', 'status', 'author_id', 'lesson_id as key'])
            // a tombstone takes no votes
            .where('deleted_at', 'is', null)
            .where('id', '=', id)
            .forUpdate()
            .executeTakeFirst();
    const readable =
      row &&
      (row.status === 'visible' ||
        row.author_id === viewer.userId ||
        can(viewer.roles, 'community:moderate'));
    if (!row || !readable) throw type === 'review' ? NotFound.review() : NotFound.comment();
    return row;
  }

  /** Counts and score of a locked subject, from its votes. */
  async function rescore(trx: Db, type: SubjectType, id: string) {
    const { up, down } = await countVotes(trx, type, id);
    const wilson = wilsonLowerBound(up, down);
    await storeScore(trx, type, id, { up, down, wilson });
    return { up, down, wilson };
  }

  async function apply(
    type: SubjectType,
    id: string,
    viewer: Viewer,
    helpful: boolean | null,
  ): Promise<Votes> {
    const { votes, key } = await inTransaction(db, async (trx) => {
      const subject = await lockSubject(trx, type, id, viewer);
      if (helpful === null) await deleteVote(trx, type, id, viewer.userId);
      else await upsertVote(trx, type, id, viewer.userId, helpful, clock());
      const { up, down, wilson } = await rescore(trx, type, id);
      return { votes: { helpful: up, unhelpful: down, score: wilson, mine: helpful }, key: subject.key };
    });
    await changed(type, key);
    return votes;
  }

  return {
    vote: (type: SubjectType, id: string, viewer: Viewer, helpful: boolean) =>
      apply(type, id, viewer, helpful),
    unvote: (type: SubjectType, id: string, viewer: Viewer) => apply(type, id, viewer, null),

    /**
     * Recount every subject whose stored counts or score drifted from its votes, one short
     * transaction each (locked like a vote); answers how many were repaired. Idempotent.
     */
    async recount(type: SubjectType): Promise<number> {
      const ids = await driftedScores(db, type, WILSON_Z);
      for (const id of ids) {
        const key = await inTransaction(db, async (trx) => {
          const row =
            type === 'review'
              ? await trx
                  .selectFrom('community.reviews')
                  .select('course_id as key')
                  .where('id', '=', id)
                  .forUpdate()
                  .executeTakeFirst()
              : await trx
                  .selectFrom('community.comments')
                  .select('lesson_id as key')
                  .where('id', '=', id)
                  .forUpdate()
                  .executeTakeFirst();
          if (row) await rescore(trx, type, id);
          return row?.key;
        });
        if (key !== undefined) await changed(type, key);
      }
      return ids.length;
    },
  };
}

export type VotesService = ReturnType<typeof createVotesService>;
