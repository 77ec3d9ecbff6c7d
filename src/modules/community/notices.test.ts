import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Caller } from '../../../test/helpers/kit.js';
import {
  CommentApprovedEvent,
  CommentCreatedEvent,
  ReviewCreatedEvent,
  ReviewUpdatedEvent,
} from './community.events.js';
import { type CommunityTest, startCommunity } from './community.test-support.js';

/** What notify needs to tell the right people, as community's events carry it. */

let t: CommunityTest;
beforeAll(async () => {
  t = await startCommunity();
}, 60_000);
afterAll(async () => {
  await t.kit.stop();
});

const eventsOf = async (type: string, id: string) =>
  (await t.kit.outbox('community', type))
    .map((e) => e.data as Record<string, unknown>)
    .filter((d) => d.commentId === id || d.reviewId === id);

/** The titles the test courses' paid lesson and course have in the catalog (`startCommunity`). */
const titles = { courseTitle: 'A course', lessonTitle: 'Paid' };

const post = (as: Caller, lessonId: string, body: string, parentId?: string) =>
  t.kit.expectStatus<{ id: string; status: string }>(201, 'POST', `/api/v1/lessons/${lessonId}/comments`, {
    as,
    body: parentId === undefined ? { body } : { body, parentId },
  });

const decide = (type: 'reviews' | 'comments', id: string, action: 'approve' | 'hide') =>
  t.kit.expectStatus(200, 'POST', `/api/v1/admin/community/${type}/${id}/decision`, {
    as: t.admin,
    body: { action, reason: 'checked' },
  });

/** A published course with a second instructor, invited, accepted and approved in the catalog. */
async function courseWithCoInstructor() {
  const course = await t.course();
  const co = await t.kit.caller('instructor');
  // an instructor has a catalog profile from their first course
  await t.kit.expectStatus(201, 'POST', '/api/v1/courses', {
    as: co,
    body: { title: 'Profile', price: { amount: 0, currency: 'CNY' }, level: 'beginner', language: 'en' },
  });
  await t.kit.expectStatus(201, 'POST', `/api/v1/courses/${course.id}/invitations`, {
    as: t.instructor,
    body: { instructorId: co.id },
  });
  await t.kit.expectStatus(200, 'POST', `/api/v1/me/invitations/${course.id}/accept`, { as: co });
  await t.kit.expectStatus(204, 'POST', `/api/v1/courses/${course.id}/invitations/${co.id}/approve`, {
    as: t.admin,
  });
  return { ...course, co };
}

describe('events for notices', () => {
  it('a new comment or review names the course’s owner and instructors (owner first, each once) and a reply its parent’s author', async () => {
    const course = await courseWithCoInstructor();
    const [asker, helper] = [await t.buyer(course.id), await t.buyer(course.id)];
    const question = await post(asker, course.paidLessonId, 'Why does it fail?');
    const answer = await post(helper, course.paidLessonId, 'Step two.', question.id);
    const team = [t.instructor.id, course.co.id];
    expect(await eventsOf('community.comment.created', question.id)).toEqual([
      expect.objectContaining({ parentId: null, parentAuthorId: null, instructorIds: team, ...titles }),
    ]);
    expect(await eventsOf('community.comment.created', answer.id)).toEqual([
      expect.objectContaining({
        parentId: question.id,
        parentAuthorId: asker.id,
        instructorIds: team,
        ...titles,
      }),
    ]);
    expect(await eventsOf('community.comment.replied', answer.id)).toEqual([
      expect.objectContaining({ parentAuthorId: asker.id, ...titles }),
    ]);
    const review = await t.kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/courses/${course.id}/reviews`,
      {
        as: asker,
        body: { rating: 4, body: 'Clear and useful' },
      },
    );
    expect(await eventsOf('community.review.created', review.id)).toEqual([
      expect.objectContaining({ status: 'visible', rating: 4, instructorIds: team, courseTitle: 'A course' }),
    ]);
    expect(await eventsOf('community.review.created', review.id)).toEqual([
      expect.not.objectContaining({ lessonTitle: expect.anything() as unknown }),
    ]);
  });

  it('a held comment is announced with its mentions and the course’s team when a moderator lets it out, not before, and not when hidden', async () => {
    const course = await t.course();
    const [asker, named, replier] = [
      await t.buyer(course.id),
      await t.buyer(course.id),
      await t.buyer(course.id),
    ];
    await t.register(named, 'Nomen');
    const held = await post(asker, course.paidLessonId, 'cheap VIAGRA here @Nomen');
    expect(held.status).toBe('held');
    const hidden = await post(asker, course.paidLessonId, 'cheap VIAGRA again @Nomen');
    expect(await eventsOf('community.comment.approved', held.id)).toEqual([]);
    expect(await eventsOf('community.comment.created', held.id)).toEqual([
      expect.objectContaining({ status: 'held', mentionedUserIds: [named.id] }),
    ]);

    await decide('comments', held.id, 'approve');
    // a held comment takes no replies from others: this one comes once it is out
    const heldReply = await post(replier, course.paidLessonId, 'cheap VIAGRA too @Nomen', held.id);
    expect(await eventsOf('community.comment.approved', heldReply.id)).toEqual([]);
    await decide('comments', heldReply.id, 'approve');
    await decide('comments', hidden.id, 'hide');
    expect(await eventsOf('community.comment.approved', held.id)).toEqual([
      expect.objectContaining({
        lessonId: course.paidLessonId,
        courseId: course.id,
        parentId: null,
        parentAuthorId: null,
        authorId: asker.id,
        byInstructor: false,
        mentionedUserIds: [named.id],
        instructorIds: [t.instructor.id],
        ...titles,
      }),
    ]);
    expect(await eventsOf('community.comment.approved', heldReply.id)).toEqual([
      expect.objectContaining({
        parentId: held.id,
        parentAuthorId: asker.id,
        mentionedUserIds: [named.id],
        ...titles,
      }),
    ]);
    // the reply tells its parent's author too, as before, naming the lesson and course
    expect(await eventsOf('community.comment.replied', heldReply.id)).toEqual([
      expect.objectContaining({ parentAuthorId: asker.id, ...titles }),
    ]);
    expect(await eventsOf('community.comment.approved', hidden.id)).toEqual([]);
    // approving a visible comment (after a report) announces nothing again
    await decide('comments', held.id, 'approve');
    expect(await eventsOf('community.comment.approved', held.id)).toHaveLength(1);
  });

  it('an edit announces whom it names for the first time, with the notice facts; a held comment’s edit waits for the approval', async () => {
    const course = await t.course();
    const [author, alice, bob, carol] = [
      await t.buyer(course.id),
      await t.buyer(course.id),
      await t.buyer(course.id),
      await t.buyer(course.id),
    ];
    await t.register(alice, 'Alice');
    await t.register(bob, 'Bob');
    await t.register(carol, 'Carol');
    const edit = (id: string, body: string) =>
      t.kit.expectStatus<{ status: string }>(200, 'PATCH', `/api/v1/comments/${id}`, {
        as: author,
        body: { body },
      });

    const visible = await post(author, course.paidLessonId, 'Ask @Alice');
    await edit(visible.id, 'Ask @Alice or @Bob');
    await edit(visible.id, 'Ask @Bob');
    expect(await eventsOf('community.comment.edited', visible.id)).toEqual([
      expect.objectContaining({
        lessonId: course.paidLessonId,
        courseId: course.id,
        parentId: null,
        parentAuthorId: null,
        authorId: author.id,
        byInstructor: false,
        status: 'visible',
        mentionedUserIds: expect.arrayContaining([alice.id, bob.id]) as unknown,
        addedMentionIds: [bob.id],
        removedMentionIds: [],
        instructorIds: [t.instructor.id],
        ...titles,
      }),
      expect.objectContaining({
        mentionedUserIds: [bob.id],
        addedMentionIds: [],
        removedMentionIds: [alice.id],
      }),
    ]);
    expect(await eventsOf('community.comment.approved', visible.id)).toEqual([]);

    // held when written: its edit stores the new name, and the approval announces the names it has then
    const held = await post(author, course.paidLessonId, 'cheap VIAGRA @Alice');
    expect(held.status).toBe('held');
    expect((await edit(held.id, 'cheap VIAGRA @Carol')).status).toBe('held');
    expect(await eventsOf('community.comment.edited', held.id)).toEqual([
      expect.objectContaining({ status: 'held', addedMentionIds: [carol.id], removedMentionIds: [alice.id] }),
    ]);
    expect(await eventsOf('community.comment.approved', held.id)).toEqual([]);
    await decide('comments', held.id, 'approve');
    expect(await eventsOf('community.comment.approved', held.id)).toEqual([
      expect.objectContaining({ mentionedUserIds: [carol.id] }),
    ]);
  });

  it('a comment held when written and hidden before approval is announced when approved, once; one shown before is not announced again', async () => {
    const course = await t.course();
    const [asker, author, named] = [
      await t.buyer(course.id),
      await t.buyer(course.id),
      await t.buyer(course.id),
    ];
    await t.register(named, 'Hidden Named');
    const question = await post(asker, course.paidLessonId, 'A question');
    const neverShown = await post(author, course.paidLessonId, 'cheap VIAGRA @HiddenNamed', question.id);
    expect(neverShown.status).toBe('held');
    await decide('comments', neverShown.id, 'hide');
    expect(await eventsOf('community.comment.approved', neverShown.id)).toEqual([]);
    await decide('comments', neverShown.id, 'approve');
    expect(await eventsOf('community.comment.approved', neverShown.id)).toEqual([
      expect.objectContaining({
        parentId: question.id,
        parentAuthorId: asker.id,
        mentionedUserIds: [named.id],
        instructorIds: [t.instructor.id],
        ...titles,
      }),
    ]);
    expect(await eventsOf('community.comment.replied', neverShown.id)).toEqual([
      expect.objectContaining({ parentAuthorId: asker.id, ...titles }),
    ]);
    // shown now: hidden and approved again, it is not announced again
    await decide('comments', neverShown.id, 'hide');
    await decide('comments', neverShown.id, 'approve');
    expect(await eventsOf('community.comment.approved', neverShown.id)).toHaveLength(1);
    expect(await eventsOf('community.comment.replied', neverShown.id)).toHaveLength(1);

    // visible when written (announced by `created`), then hidden and approved: nothing again
    const shown = await post(author, course.paidLessonId, 'Fine @HiddenNamed', question.id);
    expect(shown.status).toBe('visible');
    await decide('comments', shown.id, 'hide');
    await decide('comments', shown.id, 'approve');
    expect(await eventsOf('community.comment.approved', shown.id)).toEqual([]);
    expect(await eventsOf('community.comment.replied', shown.id)).toHaveLength(1);

    // visible when written, held by an edit, hidden, approved: announced when written, not again
    const editedHeld = await post(author, course.paidLessonId, 'Fine too', question.id);
    await t.kit.expectStatus(200, 'PATCH', `/api/v1/comments/${editedHeld.id}`, {
      as: author,
      body: { body: 'cheap VIAGRA now' },
    });
    await decide('comments', editedHeld.id, 'hide');
    await decide('comments', editedHeld.id, 'approve');
    expect(await eventsOf('community.comment.approved', editedHeld.id)).toEqual([]);
  });

  it('a held review’s approval says it was held and names the course’s team; a later hide does not', async () => {
    const course = await t.course();
    const author = await t.buyer(course.id);
    const review = await t.kit.expectStatus<{ id: string; status: string }>(
      201,
      'POST',
      `/api/v1/courses/${course.id}/reviews`,
      { as: author, body: { rating: 2, body: 'Get ＦＲＥＥ Crypto from my site' } },
    );
    expect(review.status).toBe('held');
    await decide('reviews', review.id, 'approve');
    await decide('reviews', review.id, 'hide');
    const moderated = (await eventsOf('community.review.updated', review.id)).filter(
      (d) => d.change === 'moderated',
    );
    expect(moderated).toEqual([
      expect.objectContaining({
        previousStatus: 'held',
        status: 'visible',
        instructorIds: [t.instructor.id],
        courseTitle: 'A course',
      }),
      expect.objectContaining({ previousStatus: 'visible', status: 'hidden' }),
    ]);
    expect(moderated[0]).not.toHaveProperty('lessonTitle');
    expect(moderated[1]).not.toHaveProperty('instructorIds');
    expect(moderated[1]).not.toHaveProperty('courseTitle');
  });

  it('a review held when written and hidden before approval names the team when approved, once; one shown before does not', async () => {
    const course = await t.course();
    const [author, other] = [await t.buyer(course.id), await t.buyer(course.id)];
    const moderated = async (id: string) =>
      (await eventsOf('community.review.updated', id)).filter((d) => d.change === 'moderated');
    const neverShown = await t.kit.expectStatus<{ id: string; status: string }>(
      201,
      'POST',
      `/api/v1/courses/${course.id}/reviews`,
      { as: author, body: { rating: 3, body: 'Get ＦＲＥＥ Crypto from my site' } },
    );
    expect(neverShown.status).toBe('held');
    await decide('reviews', neverShown.id, 'hide');
    await decide('reviews', neverShown.id, 'approve');
    // shown now: hidden and approved again, the team is not named again
    await decide('reviews', neverShown.id, 'hide');
    await decide('reviews', neverShown.id, 'approve');
    const decisions = await moderated(neverShown.id);
    expect(decisions.map((d) => [d.previousStatus, d.status])).toEqual([
      ['held', 'hidden'],
      ['hidden', 'visible'],
      ['visible', 'hidden'],
      ['hidden', 'visible'],
    ]);
    expect(decisions[1]).toMatchObject({ instructorIds: [t.instructor.id], courseTitle: 'A course' });
    for (const i of [0, 2, 3]) expect(decisions[i]).not.toHaveProperty('instructorIds');

    // visible when written (announced by `created`), then hidden and approved: no team named
    const shown = await t.kit.expectStatus<{ id: string; status: string }>(
      201,
      'POST',
      `/api/v1/courses/${course.id}/reviews`,
      { as: other, body: { rating: 4, body: 'Clear and useful' } },
    );
    expect(shown.status).toBe('visible');
    await decide('reviews', shown.id, 'hide');
    await decide('reviews', shown.id, 'approve');
    for (const d of await moderated(shown.id)) expect(d).not.toHaveProperty('instructorIds');
  });

  it('the new fields may be absent (events written before them) and are checked when present', () => {
    const comment = {
      commentId: 'c1',
      lessonId: 'l1',
      courseId: 'k1',
      parentId: null,
      authorId: 'u1',
      byInstructor: false,
      status: 'visible',
      mentionedUserIds: [],
      createdAt: '2026-03-01T08:00:00.000Z',
    };
    const review = {
      reviewId: 'r1',
      courseId: 'k1',
      authorId: 'u1',
      rating: 4,
      verified: true,
      status: 'visible',
      createdAt: '2026-03-01T08:00:00.000Z',
    };
    const { createdAt: _c, ...facts } = review;
    const updated = { ...facts, change: 'moderated', updatedAt: '2026-03-01T08:00:00.000Z' };
    expect(CommentCreatedEvent.problems(comment)).toBeUndefined();
    expect(ReviewCreatedEvent.problems(review)).toBeUndefined();
    expect(ReviewUpdatedEvent.problems(updated)).toBeUndefined();
    expect(
      CommentCreatedEvent.problems({ ...comment, instructorIds: ['u2'], parentAuthorId: null }),
    ).toBeUndefined();
    expect(CommentCreatedEvent.problems({ ...comment, instructorIds: [''] })).toBeDefined();
    expect(CommentCreatedEvent.problems({ ...comment, parentAuthorId: 7 })).toBeDefined();
    expect(ReviewCreatedEvent.problems({ ...review, instructorIds: 'u2' })).toBeDefined();
    expect(ReviewUpdatedEvent.problems({ ...updated, previousStatus: 'gone' })).toBeDefined();
    const approved = {
      commentId: 'c1',
      lessonId: 'l1',
      courseId: 'k1',
      parentId: null,
      parentAuthorId: null,
      authorId: 'u1',
      byInstructor: false,
      mentionedUserIds: ['u2'],
      approvedAt: '2026-03-01T08:00:00.000Z',
    };
    expect(CommentApprovedEvent.problems(approved)).toBeUndefined();
    expect(CommentApprovedEvent.problems({ ...approved, instructorIds: [''] })).toBeDefined();
    const titled = { courseTitle: 'PostgreSQL <in> practice', lessonTitle: '3. Window functions & frames' };
    expect(CommentCreatedEvent.problems({ ...comment, ...titled })).toBeUndefined();
    expect(CommentApprovedEvent.problems({ ...approved, ...titled })).toBeUndefined();
    expect(ReviewCreatedEvent.problems({ ...review, courseTitle: titled.courseTitle })).toBeUndefined();
    expect(CommentCreatedEvent.problems({ ...comment, lessonTitle: 3 })).toBeDefined();
    expect(ReviewUpdatedEvent.problems({ ...updated, courseTitle: null })).toBeDefined();
  });
});
