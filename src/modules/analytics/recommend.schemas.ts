import { type Static, Type } from 'typebox';
import { Uuid } from '../../platform/http/schemas.js';

export const Recommendation = Type.Object({
  courseId: Uuid,
  title: Type.String(),
  /** Why it is here, for the learner: "because you bought X", "popular in 编程". */
  reason: Type.String(),
  /** Which source put it here. */
  source: Type.Union([Type.Literal('co-purchase'), Type.Literal('content'), Type.Literal('popular')]),
  /**
   * The source's own measure: Jaccard similarity of buyer sets for co-purchase, of tags plus
   * category for content, buyers for popular.
   */
  score: Type.Number(),
});
export type Recommendation = Static<typeof Recommendation>;

export const RecommendationList = Type.Object({ data: Type.Array(Recommendation) });
export const LimitQuery = Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }) });
export const CourseParams = Type.Object({ id: Uuid });
