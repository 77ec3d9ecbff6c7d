import { type Static, Type } from 'typebox';
import { Uuid } from '../../platform/http/schemas.js';

const Unit = Type.Number({ minimum: 0, maximum: 1 });

export const ActivityScore = Type.Object({
  userId: Uuid,
  /** The last day (UTC) of the window the score is measured over. */
  windowEnd: Type.String({ format: 'date' }),
  /** S = A·B·C, in [0, 1]. */
  score: Unit,
  /** 1 is the most active; tied users share a rank. */
  rank: Type.Integer({ minimum: 1 }),
  components: Type.Object({
    a: Type.Object({ value: Unit, activeDays: Type.Integer() }, { description: 'Active days / window days' }),
    b: Type.Object(
      { value: Unit, learningMinutes: Type.Number() },
      { description: 'min(learning minutes, cap) / cap' },
    ),
    c: Type.Object(
      { value: Unit, interactions: Type.Integer() },
      {
        description: 'min(interactions, cap) / cap: lesson and course completions, reviews, comments, shares',
      },
    ),
  }),
});
export type ActivityScore = Static<typeof ActivityScore>;

/** A user without activity in the window has no score: `score` is null. */
export const ScoreAnswer = Type.Object({ userId: Uuid, score: Type.Union([ActivityScore, Type.Null()]) });

export const UserParams = Type.Object({ id: Uuid });
export const TopQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) });
export const TopAnswer = Type.Object({ data: Type.Array(ActivityScore) });
