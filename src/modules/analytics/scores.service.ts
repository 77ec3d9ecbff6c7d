import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { NotFound } from './analytics.errors.js';
import { can } from './permissions.js';
import { recomputeScores, type ScoreModel, scoreOf, topScores } from './scores.queries.js';
import type { ActivityScore } from './scores.schemas.js';
import type { AnalyticsTables } from './tables.js';
import type { Viewer } from './routes.common.js';

type ScoreRow = NonNullable<Awaited<ReturnType<typeof scoreOf>>>;

const toWire = (row: ScoreRow): ActivityScore => ({
  userId: row.user_id,
  windowEnd: row.window_end.toISOString().slice(0, 10),
  score: row.score,
  rank: row.rank,
  components: {
    a: { value: row.a, activeDays: row.active_days },
    b: { value: row.b, learningMinutes: row.learning_minutes },
    c: { value: row.c, interactions: row.interactions },
  },
});

export interface ScoresService {
  /** Recompute every user's score over the window ending on `windowEnd` (default: yesterday, UTC). */
  recompute(windowEnd?: string): Promise<number>;
  /** A user's score: the user themself or a platform reader; anyone else is told there is no such user. */
  of(viewer: Viewer, userId: string): Promise<ActivityScore | null>;
  top(limit: number): Promise<ActivityScore[]>;
}

export function createScoresService(deps: {
  db: Kysely<AnalyticsTables>;
  clock: Clock;
  model: ScoreModel;
}): ScoresService {
  const { db, clock, model } = deps;
  return {
    recompute(windowEnd) {
      const end = windowEnd ?? new Date(clock().getTime() - 86_400_000).toISOString().slice(0, 10);
      return inTransaction(db, (trx) => recomputeScores(trx, end, model));
    },
    async of(viewer, userId) {
      if (viewer.userId !== userId && !can(viewer.roles, 'analytics:read-platform')) throw NotFound.user();
      const row = await scoreOf(db, userId);
      return row ? toWire(row) : null;
    },
    async top(limit) {
      return (await topScores(db, limit)).map(toWire);
    },
  };
}
