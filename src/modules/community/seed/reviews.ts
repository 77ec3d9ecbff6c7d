import { AppError } from '../../../platform/errors.js';
import type { CatalogApi } from '../../catalog/index.js';
import type { Viewer } from '../access.service.js';
import { CommunityErrors } from '../community.errors.js';
import type { ReviewsService } from '../reviews.service.js';
import type { VotesService } from '../votes.service.js';
import { DEMO_PERSONAS, DEMO_REVIEWS } from './demo.data.js';

/** The services a demo review is written through, as the learner would write it. */
export interface DemoReviewServices {
  reviews: Pick<ReviewsService, 'create'>;
  votes: Pick<VotesService, 'vote'>;
  catalog: Pick<CatalogApi, 'demoCourseIds'>;
}

/**
 * One of identity's demo learners: fixed ids that only identity's demo seed creates, on an empty
 * database, so a real platform has none of them.
 */
export const isDemoPersona = (userId: string): boolean => DEMO_PERSONAS.includes(userId);

/**
 * A review refused for one of these reasons stays unwritten, and the job is done: asking again
 * would be answered the same (already reviewed), or it is the learner's to decide once they own
 * the course again (the refunded demo sale), or the course is no longer live.
 */
const SETTLED: ReadonlySet<string> = new Set([
  CommunityErrors.alreadyReviewed,
  CommunityErrors.purchaseRequired,
  CommunityErrors.courseNotFound,
]);

/**
 * The `community.demo-review` job: the demo learner's review of a demo course they were granted,
 * through the reviews service as the learner would post it (ownership asked of learning, verified
 * mark, outbox events, the ratings aggregate and notify's notice all follow), and another demo
 * learner's helpful vote. Does nothing for anyone but a demo learner, or for a course that is not
 * the demo catalog's. The text is picked by the learner's and the course's positions, so the same
 * demo data gets the same reviews.
 */
export async function writeDemoReview(
  services: DemoReviewServices,
  userId: string,
  courseId: string,
): Promise<void> {
  const { reviews, votes, catalog } = services;
  const learner = DEMO_PERSONAS.indexOf(userId);
  if (learner < 0) return;
  // commerce sells from the same list (up to its 100), so every demo sale is found here
  const course = (await catalog.demoCourseIds(100)).indexOf(courseId);
  if (course < 0) return;
  const text = DEMO_REVIEWS[(learner + course) % DEMO_REVIEWS.length] ?? DEMO_REVIEWS[0];
  const author: Viewer = { userId, roles: ['learner'] };
  const review = await reviews.create(author, courseId, text).catch((err: unknown) => {
    if (err instanceof AppError && SETTLED.has(err.code)) return undefined;
    // posting too fast, learning or the catalog out of reach: the job's retry asks again
    throw err;
  });
  if (!review) return;
  if (review.status === 'visible') {
    const voter = DEMO_PERSONAS[(learner + 1) % DEMO_PERSONAS.length] ?? DEMO_PERSONAS[0];
    await votes.vote('review', review.id, { userId: voter, roles: ['learner'] }, true);
  }
}
