import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import { exportPartOf, keysOf, readSections } from '../../../test/helpers/personal-data.js';
import { type CommunityTest, startCommunity } from './community.test-support.js';
import { personalDataSections } from './personal-data.queries.js';
import type { CommunityTables } from './tables.js';

// the kit of community's tests already has a module named 'identity' (an outbox standing in for
// it), which is what `exportPartOf` publishes through
let t: CommunityTest;
beforeAll(async () => {
  t = await startCommunity();
}, 60_000);
afterAll(async () => {
  await t.kit.stop();
});

interface Item {
  id: string;
  status: string;
}

const SECTIONS = [
  'member',
  'reviews',
  'reviewReplies',
  'comments',
  'reviewVotes',
  'commentVotes',
  'mentions',
  'reports',
  'moderationDecisions',
];

/** Every key of a JSON value, at any depth. */
const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

const SECRET_KEY = /password|token|secret|hash|credential|seal|cipher|signing|key/i;

describe("community's part of a user's personal data export", () => {
  it("holds the user's own reviews, comments, votes, reports and decisions, and nothing of anyone else", async () => {
    const course = await t.course();
    const other = await t.course();
    const lesson = course.paidLessonId;
    const [a, b, c] = await t.buyers(course.id, 3);
    if (!a || !b || !c) throw new Error('no buyers');
    await t.buyAgain(a, other.id);
    await t.buyAgain(c, other.id);
    await t.register(a, 'AliceExport');
    await t.register(b, 'BobOther');
    await t.register(c, 'CarolThird');
    const at = t.clock().toISOString();
    const post = <T>(status: number, method: 'POST' | 'PUT', url: string, as: Caller, body: object) =>
      t.kit.expectStatus<T>(status, method, `/api/v1${url}`, { as, body });
    const review = (as: Caller, courseId: string, rating: number, body: string) =>
      post<Item>(201, 'POST', `/courses/${courseId}/reviews`, as, { rating, body });
    const comment = (as: Caller, body: string, parentId?: string) =>
      post<Item>(201, 'POST', `/lessons/${lesson}/comments`, as, parentId ? { body, parentId } : { body });
    const decide = (type: 'reviews' | 'comments', id: string, body: object) =>
      post(200, 'POST', `/admin/community/${type}/${id}/decision`, t.admin, body);

    const aReview = await review(a, course.id, 4, 'A: clear and well paced');
    const aReview2 = await review(a, other.id, 5, 'A: even better the second time');
    const bReview = await review(b, course.id, 2, 'B: too fast for me');
    const cReview = await review(c, course.id, 5, 'C: the best course');
    const cReview2 = await review(c, other.id, 3, 'C: fine');
    await post(200, 'PUT', `/reviews/${aReview.id}/reply`, t.instructor, {
      body: 'Instructor: thank you, A',
    });
    await post(200, 'PUT', `/reviews/${cReview.id}/reply`, t.instructor, {
      body: 'Instructor: thank you, C',
    });
    // a moderator's decision on the instructor's reply is about the instructor's text, not A's
    await decide('reviews', aReview.id, { action: 'hide', reason: 'rude reply', part: 'reply' });

    const welcome = await comment(t.instructor, 'Instructor: welcome to the lesson');
    const aHeld = await comment(a, 'A: get ＦＲＥＥ Crypto here');
    expect(aHeld.status).toBe('held');
    const aQuestion = await comment(a, 'A: why does step 2 fail?');
    const aReply = await comment(a, 'A: thanks for the welcome', welcome.id);
    const bComment = await comment(b, 'B: my own question');
    const cMention = await comment(c, 'C: @AliceExport see the docs');
    const cMention2 = await comment(c, 'C: and @AliceExport once more');
    await post(202, 'POST', `/comments/${aQuestion.id}/reports`, b, { reason: 'B: this is spam' });
    await decide('comments', aQuestion.id, { action: 'hide', reason: 'off topic for this lesson' });
    await decide('comments', aHeld.id, { action: 'approve', reason: 'a joke, not spam' });
    // decisions on posts that are gone since: a review its author deleted after a moderator hid
    // it, and a comment a moderator deleted
    const third = await t.course();
    await t.buyAgain(a, third.id);
    const aGoneReview = await review(a, third.id, 1, 'A: nothing to do with the course');
    await decide('reviews', aGoneReview.id, { action: 'hide', reason: 'not about the course' });
    await t.kit.expectStatus(204, 'DELETE', `/api/v1/reviews/${aGoneReview.id}`, { as: a });
    const aGoneComment = await comment(a, 'A: posted twice');
    await decide('comments', aGoneComment.id, { action: 'delete', reason: 'a duplicate' });
    // a decision on A's review whose reason happens to start like a reply's is still on the review
    await decide('reviews', aReview.id, {
      action: 'approve',
      reason: 'reply: none needed, the review is fair',
    });
    // a moderator deletes the instructor's reply to B's review: the decision stays the instructor's
    await post(200, 'PUT', `/reviews/${bReview.id}/reply`, t.instructor, {
      body: 'Instructor: thank you, B',
    });
    await decide('reviews', bReview.id, { action: 'delete', reason: 'off-topic reply', part: 'reply' });

    await post(200, 'PUT', `/reviews/${cReview.id}/vote`, a, { helpful: true });
    await post(200, 'PUT', `/reviews/${cReview2.id}/vote`, a, { helpful: false });
    await post(200, 'PUT', `/comments/${welcome.id}/vote`, a, { helpful: false });
    await post(200, 'PUT', `/comments/${cMention.id}/vote`, a, { helpful: true });
    await post(200, 'PUT', `/reviews/${aReview.id}/vote`, b, { helpful: false });
    await post(200, 'PUT', `/reviews/${cReview.id}/vote`, b, { helpful: false });
    await post(200, 'PUT', `/comments/${bComment.id}/vote`, b, { helpful: true });
    await post(202, 'POST', `/reviews/${cReview.id}/reports`, a, { reason: 'A: looks like an advert' });
    await post(202, 'POST', `/comments/${cMention2.id}/reports`, a, { reason: 'A: please stop pinging me' });
    await post(202, 'POST', `/reviews/${cReview.id}/reports`, b, { reason: 'B: also an advert' });

    const part = await exportPartOf(t.kit, a.id, 'community');
    expect(part.module).toBe('community');
    expect(part.generatedAt).toBe(at);
    expect(Object.keys(part.data)).toEqual(SECTIONS);
    const { data } = part;

    expect(data.member).toEqual({ displayName: 'AliceExport' });
    const reviewOf = (id: string, courseId: string, rating: number, body: string, unhelpful: number) => ({
      id,
      courseId,
      rating,
      body,
      verified: true,
      status: 'visible',
      votes: { helpful: 0, unhelpful },
      createdAt: at,
      updatedAt: at,
    });
    // one review per course, in the order of the course ids
    expect(data.reviews).toEqual(
      [
        reviewOf(aReview.id, course.id, 4, 'A: clear and well paced', 1),
        reviewOf(aReview2.id, other.id, 5, 'A: even better the second time', 0),
      ].toSorted((x, y) => byId({ id: x.courseId }, { id: y.courseId })),
    );
    expect(data.reviewReplies).toEqual([]);
    const comments = [
      { id: aHeld.id, parentId: null, body: 'A: get ＦＲＥＥ Crypto here', status: 'visible' },
      { id: aQuestion.id, parentId: null, body: 'A: why does step 2 fail?', status: 'hidden' },
      { id: aReply.id, parentId: welcome.id, body: 'A: thanks for the welcome', status: 'visible' },
    ].map((x) => ({
      ...x,
      lessonId: lesson,
      courseId: course.id,
      instructorAnswer: false,
      votes: { helpful: 0, unhelpful: 0 },
      createdAt: at,
      updatedAt: at,
      deletedAt: null,
    }));
    expect(data.comments).toEqual(comments.toSorted(byId));
    expect(data.reviewVotes).toEqual(
      [
        { reviewId: cReview.id, helpful: true, votedAt: at },
        { reviewId: cReview2.id, helpful: false, votedAt: at },
      ].toSorted((x, y) => byId({ id: x.reviewId }, { id: y.reviewId })),
    );
    expect(data.commentVotes).toEqual(
      [
        { commentId: welcome.id, helpful: false, votedAt: at },
        { commentId: cMention.id, helpful: true, votedAt: at },
      ].toSorted((x, y) => byId({ id: x.commentId }, { id: y.commentId })),
    );
    expect(data.mentions).toEqual(
      [cMention.id, cMention2.id]
        .toSorted()
        .map((commentId) => ({ commentId, lessonId: lesson, courseId: course.id, mentionedAt: at })),
    );
    const reports = [
      { subjectType: 'review', subjectId: cReview.id, reason: 'A: looks like an advert' },
      { subjectType: 'comment', subjectId: cMention2.id, reason: 'A: please stop pinging me' },
    ];
    expect(data.reports).toHaveLength(2);
    expect(data.reports).toEqual(
      expect.arrayContaining(
        reports.map((r) => ({ id: expect.any(String), ...r, createdAt: at, resolvedAt: null })),
      ),
    );
    // in the order they were taken; B's report of A's question is B's, the decision on the
    // instructor's reply to A's review is about the instructor's text, and no moderator is named
    const decision = (subjectType: string, subjectId: string, action: string, reason: string) => ({
      subjectType,
      subjectId,
      part: 'item',
      action,
      reason,
      at,
    });
    expect(data.moderationDecisions).toEqual([
      decision('comment', aHeld.id, 'held', 'word list: freecrypto'),
      decision('comment', aQuestion.id, 'hidden', 'off topic for this lesson'),
      decision('comment', aHeld.id, 'approved', 'a joke, not spam'),
      decision('review', aGoneReview.id, 'hidden', 'not about the course'),
      decision('comment', aGoneComment.id, 'deleted', 'a duplicate'),
      decision('review', aReview.id, 'approved', 'reply: none needed, the review is fair'),
    ]);

    const text = JSON.stringify(part);
    for (const absent of [
      b.id,
      bReview.id,
      bComment.id,
      'B:',
      'BobOther',
      c.id,
      'C:',
      'CarolThird',
      t.instructor.id,
      'Instructor:',
      'rude reply',
      'off-topic reply',
      t.admin.id,
    ]) {
      expect(text, absent).not.toContain(absent);
    }
    expect(keysOf(part).filter((k) => SECRET_KEY.test(k))).toEqual([]);

    // pages of one row each: every long section's keyset reaches the same rows as one page does
    const db = t.kit.app.platform.database.db.withTables<CommunityTables>() as Kysely<CommunityTables>;
    const paged = await readSections(await personalDataSections(db, a.id, 1));
    for (const [name, items] of Object.entries(paged)) {
      expect(items, name).toEqual(data[name]);
    }

    // the instructor's part holds the replies they wrote and the decision on one, not the reviews
    const theirs = await exportPartOf(t.kit, t.instructor.id, 'community');
    expect(theirs.data.reviewReplies).toEqual(
      [
        { reviewId: aReview.id, body: 'Instructor: thank you, A', status: 'hidden' },
        { reviewId: cReview.id, body: 'Instructor: thank you, C', status: 'visible' },
      ]
        .toSorted((x, y) => byId({ id: x.reviewId }, { id: y.reviewId }))
        .map((r) => ({ ...r, courseId: course.id, repliedAt: at })),
    );
    // by the part the log records, not by the reason's text; the deleted reply's decision included
    const onReply = (subjectId: string, action: string, reason: string) => ({
      subjectType: 'review',
      subjectId,
      part: 'reply',
      action,
      reason,
      at,
    });
    expect(theirs.data.moderationDecisions).toEqual([
      onReply(aReview.id, 'hidden', 'reply: rude reply'),
      onReply(bReview.id, 'deleted', 'reply: off-topic reply'),
    ]);
    expect(theirs.data.comments).toEqual([
      expect.objectContaining({
        id: welcome.id,
        instructorAnswer: true,
        votes: { helpful: 0, unhelpful: 1 },
      }),
    ]);
    expect(theirs.data.reviews).toEqual([]);
    for (const absent of [a.id, c.id, 'A:', 'C:', 'AliceExport', t.admin.id]) {
      expect(JSON.stringify(theirs), absent).not.toContain(absent);
    }
  });

  it('is a part with empty sections for a user community knows nothing of', async () => {
    const stranger = await t.kit.caller('learner');
    const part = await exportPartOf(t.kit, stranger.id, 'community');
    expect(part.data).toEqual({
      member: null,
      reviews: [],
      reviewReplies: [],
      comments: [],
      reviewVotes: [],
      commentVotes: [],
      mentions: [],
      reports: [],
      moderationDecisions: [],
    });
  });
});
