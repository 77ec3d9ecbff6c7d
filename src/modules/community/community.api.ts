import type { ReviewsService } from './reviews.service.js';
import type { CourseRating } from './reviews.schemas.js';

/** What other modules may ask community (the catalog or analytics: ratings of courses). */
export interface CommunityApi {
  /** The rating aggregate of each course (zeros for courses without visible reviews). */
  ratingsOf(courseIds: string[]): Promise<CourseRating[]>;
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export function createCommunityApi(deps: { reviews: ReviewsService }): CommunityApi {
  return {
    ratingsOf: (courseIds) =>
      Promise.all([...new Set(courseIds.filter(isUuid))].map((id) => deps.reviews.rating(id))),
  };
}
