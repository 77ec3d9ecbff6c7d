import type { ScoresService } from './scores.service.js';

/** What other modules may ask analytics (notify's digests, the console to come). */
export interface AnalyticsApi {
  /** A user's activity score and rank, or undefined without activity in the window. */
  activityOf(userId: string): Promise<{ score: number; rank: number } | undefined>;
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export function createAnalyticsApi(deps: { scores: ScoresService }): AnalyticsApi {
  return {
    async activityOf(userId) {
      if (!isUuid(userId)) return undefined;
      // asked as the user themself: the API is for trusted callers in the platform
      const score = await deps.scores.of({ userId, roles: [] }, userId);
      return score ? { score: score.score, rank: score.rank } : undefined;
    },
  };
}
