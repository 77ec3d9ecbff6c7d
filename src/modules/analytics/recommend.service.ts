import type { Kysely } from 'kysely';
import { NotFound } from './analytics.errors.js';
import {
  alsoBought,
  type Candidate,
  coPurchased,
  courseKnown,
  popular,
  sameCategory,
} from './recommend.queries.js';
import type { Recommendation } from './recommend.schemas.js';
import type { AnalyticsTables } from './tables.js';

export interface RecommendService {
  /**
   * A learner's list: courses bought together with theirs first, then courses of their courses'
   * categories, then the most bought (the cold start); never one they own or teach.
   */
  forYou(userId: string, limit: number): Promise<Recommendation[]>;
  alsoBought(courseId: string, limit: number): Promise<Recommendation[]>;
}

const popularReason = (c: Candidate) => (c.category ? `popular in ${c.category}` : 'popular with learners');

export function createRecommendService(deps: { db: Kysely<AnalyticsTables> }): RecommendService {
  const { db } = deps;
  return {
    async forYou(userId, limit) {
      const [bought, similar, top] = await Promise.all([
        coPurchased(db, userId, limit),
        sameCategory(db, userId, limit),
        popular(db, userId, limit),
      ]);
      const out = new Map<string, Recommendation>();
      const add = (c: Candidate, source: Recommendation['source'], reason: string) => {
        if (out.size < limit && !out.has(c.course_id)) {
          out.set(c.course_id, { courseId: c.course_id, title: c.title, reason, source, score: c.score });
        }
      };
      for (const c of bought) add(c, 'co-purchase', `because you bought ${c.because ?? 'a course'}`);
      for (const c of similar)
        add(c, 'content', `more in ${c.category ?? 'this category'}, like ${c.because ?? 'yours'}`);
      for (const c of top) add(c, 'popular', popularReason(c));
      return [...out.values()];
    },
    async alsoBought(courseId, limit) {
      if (!(await courseKnown(db, courseId))) throw NotFound.course();
      return (await alsoBought(db, courseId, limit)).map((c) => ({
        courseId: c.course_id,
        title: c.title,
        reason: 'learners who bought this also bought it',
        source: 'co-purchase' as const,
        score: c.score,
      }));
    },
  };
}
