import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_LEARNERS } from '../../identity/index.js';
import { announceDemoLearners, type CommunityTest, startCommunity } from '../community.test-support.js';
import { DEMO_PERSONAS } from './demo.data.js';

interface CommentWire {
  id: string;
  author: { id: string; displayName: string | null } | null;
  instructorAnswer: boolean;
  votes: { helpful: number };
  replies: CommentWire[];
}

let t: CommunityTest;
beforeAll(async () => {
  t = await startCommunity();
}, 60_000);
afterAll(async () => {
  await t.kit.stop();
});

describe('community demo data', () => {
  it('seeds discussions with instructor answers and votes through the services, once', async () => {
    const courses = [await t.course(), await t.course()];
    const lines = await t.community.seed?.();
    expect(lines?.[0]).toMatch(/^community: 2 lesson discussions/);

    // identity's demo seed announces its demo learners (identity is an outbox here): once the
    // members copy has them, the demo's comments show who wrote them
    await announceDemoLearners(t.kit);
    const names = new Map(DEMO_LEARNERS.map((l) => [l.id, l.displayName]));

    for (const course of courses) {
      const page = await t.kit.expectStatus<{ data: CommentWire[] }>(
        200,
        'GET',
        `/api/v1/lessons/${course.previewLessonId}/comments?sort=best`,
      );
      expect(page.data).toHaveLength(2);
      const question = page.data.find((c) => c.replies.length > 0);
      expect(DEMO_PERSONAS).toContain(question?.author?.id);
      for (const learnerComment of [...page.data, ...(question?.replies ?? [])]) {
        if (learnerComment.instructorAnswer) continue;
        const author = learnerComment.author;
        expect(author?.displayName, author?.id).toBe(names.get(author?.id ?? ''));
        expect(author?.displayName).toBeTruthy();
      }
      // replies of one instant come in id order: compare them as a set
      const replies = question?.replies ?? [];
      expect(replies.map((r) => [r.author?.id, r.instructorAnswer]).sort()).toEqual(
        [
          [t.instructor.id, true],
          [question?.author?.id, false],
        ].sort(),
      );
      expect(replies.find((r) => r.instructorAnswer)?.votes.helpful).toBe(2);
    }
    // made through the services: each comment announced itself
    const created = await t.kit.outbox('community', 'community.comment.created');
    expect(created).toHaveLength(8);

    // a second run (every start) adds nothing
    expect(await t.community.seed?.()).toBeUndefined();
    expect(await t.kit.outbox('community', 'community.comment.created')).toHaveLength(8);
  });
});
