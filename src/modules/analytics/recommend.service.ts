import type { Kysely } from 'kysely';
import { NotFound } from './analytics.errors.js';
import {
  alsoBought,
  type Candidate,
  contentNeighbours,
  coPurchased,
  courseKnown,
  type Neighbour,
  popular,
} from './recommend.queries.js';
import type { Recommendation } from './recommend.schemas.js';
import type { AnalyticsTables } from './tables.js';

export interface RecommendService {
  /**
   * A learner's list: courses bought together with theirs first, then courses like theirs by
   * category and tags, then the most bought (the cold start); never one they own or teach.
   */
  forYou(userId: string, limit: number): Promise<Recommendation[]>;
  alsoBought(courseId: string, limit: number): Promise<Recommendation[]>;
}

/** Shared tags named in a reason: enough to say why, short enough to read. */
const REASON_TAGS = 3;

/** Says what the neighbour shares with the learner's course: its category, tags, or both. */
function contentReason(c: Neighbour): string {
  const like = `like ${c.because ?? 'yours'}`;
  const tags = c.shared_tags.slice(0, REASON_TAGS).join(', ');
  const category = c.category ?? 'this category';
  if (c.same_category && tags) return `more in ${category} tagged ${tags}, ${like}`;
  if (c.same_category) return `more in ${category}, ${like}`;
  return `also tagged ${tags}, ${like}`;
}

const popularReason = (c: Candidate) => (c.category ? `popular in ${c.category}` : 'popular with learners');

export function createRecommendService(deps: { db: Kysely<AnalyticsTables> }): RecommendService {
  const { db } = deps;
  return {
    async forYou(userId, limit) {
      const [bought, similar, top] = await Promise.all([
        coPurchased(db, userId, limit),
        contentNeighbours(db, userId, limit),
        popular(db, userId, limit),
      ]);
      const out = new Map<string, Recommendation>();
      const add = (c: Candidate, source: Recommendation['source'], reason: string) => {
        if (out.size < limit && !out.has(c.course_id)) {
          out.set(c.course_id, { courseId: c.course_id, title: c.title, reason, source, score: c.score });
        }
      };
      for (const c of bought) add(c, 'co-purchase', `because you bought ${c.because ?? 'a course'}`);
      for (const c of similar) add(c, 'content', contentReason(c));
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
