import type { CatalogApi } from '../../catalog/index.js';
import type { Viewer } from '../access.service.js';
import type { CommentsService } from '../comments.service.js';
import type { VotesService } from '../votes.service.js';
import { DEMO_COURSES, DEMO_PERSONAS, DEMO_THREADS } from './demo.data.js';

/** The services the demo discussions are made through, as learners and instructors make them. */
export interface SeedServices {
  comments: CommentsService;
  votes: VotesService;
  catalog: CatalogApi;
}

const learner = (index: number): Viewer => ({
  userId: DEMO_PERSONAS[index % DEMO_PERSONAS.length] ?? DEMO_PERSONAS[0],
  roles: ['learner'],
});

/**
 * Lesson discussions for a newcomer to look at: on the first free preview lesson of the newest
 * published courses, a learner's question with the course instructor's answer (an instructor
 * answer) and a follow-up, a second comment, and helpful votes, all through the services. Does
 * nothing when any comment exists, or before the catalog has courses. Reviews are not written
 * here: a review needs a purchase, which commerce's demo sales make after this runs; each demo
 * learner's grant queues `community.demo-review` instead (`reviews.ts`).
 */
export async function seedDemoCommunity(services: SeedServices): Promise<string[] | undefined> {
  const { comments, votes, catalog } = services;
  if (await comments.hasAny()) return undefined;
  let threads = 0;
  for (const [i, courseId] of (await catalog.demoCourseIds(DEMO_COURSES)).entries()) {
    const course = await catalog.getCourseForSale(courseId);
    const lesson = (await catalog.lessonsOfCourse(courseId)).find((l) => l.freePreview);
    const thread = DEMO_THREADS[i % DEMO_THREADS.length];
    if (!course || !lesson || !thread) continue;
    const instructor: Viewer = { userId: course.ownerId, roles: ['learner', 'instructor'] };
    const [asker, other, voter] = [learner(i), learner(i + 1), learner(i + 2)];
    const question = await comments.create(asker, lesson.id, { body: thread.question });
    const answer = await comments.create(instructor, lesson.id, {
      body: thread.answer,
      parentId: question.id,
    });
    await comments.create(asker, lesson.id, { body: thread.followUp, parentId: question.id });
    const aside = await comments.create(other, lesson.id, { body: thread.aside });
    await votes.vote('comment', question.id, voter, true);
    await votes.vote('comment', answer.id, voter, true);
    await votes.vote('comment', answer.id, other, true);
    await votes.vote('comment', aside.id, asker, true);
    threads++;
  }
  if (threads === 0) return undefined;
  return [
    `community: ${threads} lesson discussions with instructor answers on free preview lessons (GET /api/v1/lessons/:lessonId/comments)`,
  ];
}
