import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CommunityTest, startCommunity } from './community.test-support.js';

interface CommentWire {
  id: string;
  parentId: string | null;
  author: { id: string; displayName: string | null } | null;
  deleted: boolean;
  body: string;
  instructorAnswer: boolean;
  status: string;
  mentions: string[];
  replies?: CommentWire[];
}
interface PageWire<T> {
  data: T[];
  nextCursor: string | null;
}

let t: CommunityTest;
beforeAll(async () => {
  t = await startCommunity();
}, 60_000);
afterAll(async () => {
  await t.kit.stop();
});

describe('lesson discussions', () => {
  it('are open to those who may open the lesson: preview to all, paid lessons to buyers and instructors', async () => {
    const course = await t.course();
    const buyer = await t.buyer(course.id);
    const stranger = await t.kit.caller('learner');

    await t.kit.expectStatus(200, 'GET', `/api/v1/lessons/${course.previewLessonId}/comments`);
    await t.kit.expectStatus(201, 'POST', `/api/v1/lessons/${course.previewLessonId}/comments`, {
      as: stranger,
      body: { body: 'A question on the preview' },
    });
    const locked = await t.kit.request('GET', `/api/v1/lessons/${course.paidLessonId}/comments`, {
      as: stranger,
    });
    expect(locked.statusCode).toBe(403);
    expect(locked.json()).toMatchObject({ code: 'community.purchase-required' });
    await t.kit.expectStatus(403, 'POST', `/api/v1/lessons/${course.paidLessonId}/comments`, {
      as: stranger,
      body: { body: 'Let me in' },
    });
    await t.kit.expectStatus(201, 'POST', `/api/v1/lessons/${course.paidLessonId}/comments`, {
      as: buyer,
      body: { body: 'Inside' },
    });
    await t.kit.expectStatus(404, 'GET', '/api/v1/lessons/00000000-0000-4000-8000-000000000000/comments');
  });

  it('threads one level of replies, highlights instructor answers, resolves mentions and announces replies', async () => {
    const course = await t.course();
    const asker = await t.buyer(course.id);
    const helper = await t.buyer(course.id);
    await t.register(asker, 'Ada Lovelace');
    await t.register(helper, 'Grace');
    const question = await t.kit.expectStatus<CommentWire>(
      201,
      'POST',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      {
        as: asker,
        body: { body: 'Why does <b>this</b> fail? @Grace any idea?' },
      },
    );
    expect(question.mentions).toEqual([helper.id]);
    expect(question.body).toBe('Why does <b>this</b> fail? @Grace any idea?');
    const answer = await t.kit.expectStatus<CommentWire>(
      201,
      'POST',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      {
        as: t.instructor,
        body: { body: 'Check the second step.', parentId: question.id },
      },
    );
    expect(answer).toMatchObject({ parentId: question.id, instructorAnswer: true });
    const nested = await t.kit.request('POST', `/api/v1/lessons/${course.paidLessonId}/comments`, {
      as: helper,
      body: { body: 'Deeper', parentId: answer.id },
    });
    expect(nested.statusCode).toBe(400);
    expect(nested.json()).toMatchObject({ code: 'community.reply-to-reply' });

    const page = await t.kit.expectStatus<PageWire<CommentWire>>(
      200,
      'GET',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      {
        as: asker,
      },
    );
    expect(page.data).toHaveLength(1);
    expect(page.data[0]?.replies?.map((r) => r.id)).toEqual([answer.id]);

    const replied = await t.kit.outbox('community', 'community.comment.replied');
    expect(replied.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ commentId: answer.id, parentId: question.id, parentAuthorId: asker.id }),
    );
    const created = await t.kit.outbox('community', 'community.comment.created');
    expect(created.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ commentId: question.id, mentionedUserIds: [helper.id] }),
    );
  });

  it('a held comment is seen by its author and moderators only; another user cannot edit or delete it', async () => {
    const course = await t.course();
    const author = await t.buyer(course.id);
    const other = await t.buyer(course.id);
    const c = await t.kit.expectStatus<CommentWire>(
      201,
      'POST',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      {
        as: author,
        body: { body: 'cheap VIAGRA here' },
      },
    );
    expect(c.status).toBe('held');
    await t.kit.expectStatus(404, 'GET', `/api/v1/comments/${c.id}`, { as: other });
    await t.kit.expectStatus(200, 'GET', `/api/v1/comments/${c.id}`, { as: author });
    await t.kit.expectStatus(200, 'GET', `/api/v1/comments/${c.id}`, { as: t.admin });
    await t.kit.expectStatus(404, 'PATCH', `/api/v1/comments/${c.id}`, { as: other, body: { body: 'x' } });
    await t.kit.expectStatus(404, 'DELETE', `/api/v1/comments/${c.id}`, { as: other });
    // an edit with a listed word holds a visible comment too
    const edited = await t.kit.expectStatus<CommentWire>(
      201,
      'POST',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      { as: author, body: { body: 'a fair question' } },
    );
    const after = await t.kit.expectStatus<CommentWire>(200, 'PATCH', `/api/v1/comments/${edited.id}`, {
      as: author,
      body: { body: 'cheap VIAGRA again' },
    });
    expect(after.status).toBe('held');
    await t.kit.expectStatus(204, 'DELETE', `/api/v1/comments/${c.id}`, { as: author });
    // the log says whose post each hold was, also once the post is gone
    for (const id of [c.id, edited.id]) {
      const audit = await t.kit.expectStatus<{ data: { action: string; authorId: string | null }[] }>(
        200,
        'GET',
        `/api/v1/admin/community/comments/${id}/audit`,
        { as: t.admin },
      );
      expect(
        audit.data.map((a) => [a.action, a.authorId]),
        id,
      ).toEqual([['held', author.id]]);
    }
  });
});

describe('editing a comment', () => {
  const mentionRows = async (commentId: string) =>
    (
      await sql<{ user_id: string }>`select user_id from community.mentions where comment_id = ${commentId}
        order by user_id`.execute(t.kit.app.platform.database.db)
    ).rows.map((r) => r.user_id);

  it('resolves its mentions again: a name taken out is gone, a name added is stored, in the answer and later reads', async () => {
    const course = await t.course();
    const [author, alice, bob] = [
      await t.buyer(course.id),
      await t.buyer(course.id),
      await t.buyer(course.id),
    ];
    await t.register(alice, 'Alice');
    await t.register(bob, 'Bob');
    const lesson = `/api/v1/lessons/${course.paidLessonId}/comments`;
    const c = await t.kit.expectStatus<CommentWire>(201, 'POST', lesson, {
      as: author,
      body: { body: 'Thanks @Alice' },
    });
    expect(c.mentions).toEqual([alice.id]);

    const edited = await t.kit.expectStatus<CommentWire>(200, 'PATCH', `/api/v1/comments/${c.id}`, {
      as: author,
      body: { body: 'Thanks @Bob' },
    });
    expect(edited.mentions).toEqual([bob.id]);
    const read = await t.kit.expectStatus<CommentWire>(200, 'GET', `/api/v1/comments/${c.id}`, { as: alice });
    expect(read.mentions).toEqual([bob.id]);
    const page = await t.kit.expectStatus<PageWire<CommentWire>>(200, 'GET', lesson, { as: alice });
    expect(page.data.find((x) => x.id === c.id)?.mentions).toEqual([bob.id]);
    expect(await mentionRows(c.id)).toEqual([bob.id]);

    const both = await t.kit.expectStatus<CommentWire>(200, 'PATCH', `/api/v1/comments/${c.id}`, {
      as: author,
      body: { body: 'Thanks @Bob and @alice' },
    });
    expect([...both.mentions].sort()).toEqual([alice.id, bob.id].sort());
    const none = await t.kit.expectStatus<CommentWire>(200, 'PATCH', `/api/v1/comments/${c.id}`, {
      as: author,
      body: { body: 'Thanks all' },
    });
    expect(none.mentions).toEqual([]);
    expect(await mentionRows(c.id)).toEqual([]);
  });

  it('naming the author themself or nobody known changes nothing; another user’s edit changes nothing either', async () => {
    const course = await t.course();
    const [author, named, other] = [
      await t.buyer(course.id),
      await t.buyer(course.id),
      await t.buyer(course.id),
    ];
    await t.register(author, 'Selfie');
    await t.register(named, 'Named');
    const c = await t.kit.expectStatus<CommentWire>(
      201,
      'POST',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      { as: author, body: { body: 'Hi @Named' } },
    );
    for (const body of ['Hi @Named, says @Selfie', 'Hi @Named and @Nobody-here']) {
      const edited = await t.kit.expectStatus<CommentWire>(200, 'PATCH', `/api/v1/comments/${c.id}`, {
        as: author,
        body: { body },
      });
      expect(edited.mentions).toEqual([named.id]);
      expect(await mentionRows(c.id)).toEqual([named.id]);
    }
    const events = (await t.kit.outbox('community', 'community.comment.edited'))
      .map((e) => e.data as { commentId: string; addedMentionIds: string[]; removedMentionIds: string[] })
      .filter((d) => d.commentId === c.id);
    expect(events.map((d) => [d.addedMentionIds, d.removedMentionIds])).toEqual([
      [[], []],
      [[], []],
    ]);

    // someone else's comment: 404, its mentions and text as they were
    await t.kit.expectStatus(404, 'PATCH', `/api/v1/comments/${c.id}`, {
      as: other,
      body: { body: 'Hi @Selfie' },
    });
    expect(await mentionRows(c.id)).toEqual([named.id]);
    const bad = await t.kit.request('PATCH', `/api/v1/comments/${c.id}`, {
      as: author,
      body: { body: '   ' },
    });
    expect(bad.statusCode).toBe(400);
    expect(await mentionRows(c.id)).toEqual([named.id]);
  });
});

describe('deleting a comment', () => {
  it('with replies leaves a tombstone that keeps the thread (no text, author, votes or mentions); the last reply gone takes it too', async () => {
    const course = await t.course();
    const asker = await t.buyer(course.id);
    const helper = await t.buyer(course.id);
    await t.register(helper, 'Helper');
    const lesson = `/api/v1/lessons/${course.paidLessonId}/comments`;
    const question = await t.kit.expectStatus<CommentWire>(201, 'POST', lesson, {
      as: asker,
      body: { body: 'Why does it fail? @Helper' },
    });
    const answer = await t.kit.expectStatus<CommentWire>(201, 'POST', lesson, {
      as: helper,
      body: { body: 'Check step two.', parentId: question.id },
    });
    await t.kit.expectStatus(200, 'PUT', `/api/v1/comments/${question.id}/vote`, {
      as: helper,
      body: { helpful: true },
    });

    await t.kit.expectStatus(204, 'DELETE', `/api/v1/comments/${question.id}`, { as: asker });
    const page = await t.kit.expectStatus<PageWire<CommentWire>>(200, 'GET', lesson, { as: helper });
    expect(page.data).toHaveLength(1);
    expect(page.data[0]).toMatchObject({
      id: question.id,
      deleted: true,
      body: '',
      author: null,
      mentions: [],
      votes: { helpful: 0, unhelpful: 0, score: 0, mine: null },
    });
    expect(page.data[0]?.replies?.map((r) => [r.id, r.body])).toEqual([[answer.id, 'Check step two.']]);
    const db = t.kit.app.platform.database.db;
    const left = await sql<{ votes: string; mentions: string }>`
      select (select count(*) from community.comment_votes where comment_id = ${question.id}) as votes,
             (select count(*) from community.mentions where comment_id = ${question.id}) as mentions`.execute(
      db,
    );
    expect(left.rows.map((r) => [Number(r.votes), Number(r.mentions)])).toEqual([[0, 0]]);

    // a tombstone takes no edits, votes, reports, replies or second delete
    await t.kit.expectStatus(404, 'PATCH', `/api/v1/comments/${question.id}`, {
      as: asker,
      body: { body: 'x' },
    });
    await t.kit.expectStatus(404, 'PUT', `/api/v1/comments/${question.id}/vote`, {
      as: helper,
      body: { helpful: true },
    });
    await t.kit.expectStatus(404, 'POST', `/api/v1/comments/${question.id}/reports`, {
      as: helper,
      body: { reason: 'spam' },
    });
    await t.kit.expectStatus(404, 'POST', lesson, {
      as: helper,
      body: { body: 'More', parentId: question.id },
    });
    await t.kit.expectStatus(404, 'DELETE', `/api/v1/comments/${question.id}`, { as: asker });

    // the reply's author deletes the last reply: nothing is left to keep the tombstone for
    await t.kit.expectStatus(204, 'DELETE', `/api/v1/comments/${answer.id}`, { as: helper });
    await t.kit.expectStatus(404, 'GET', `/api/v1/comments/${question.id}`, { as: helper });
    const empty = await t.kit.expectStatus<PageWire<CommentWire>>(200, 'GET', lesson, { as: helper });
    expect(empty.data).toHaveLength(0);
  });

  it('without replies is gone, votes and all', async () => {
    const course = await t.course();
    const author = await t.buyer(course.id);
    const voter = await t.buyer(course.id);
    const lesson = `/api/v1/lessons/${course.paidLessonId}/comments`;
    const c = await t.kit.expectStatus<CommentWire>(201, 'POST', lesson, {
      as: author,
      body: { body: 'Alone' },
    });
    await t.kit.expectStatus(200, 'PUT', `/api/v1/comments/${c.id}/vote`, {
      as: voter,
      body: { helpful: true },
    });
    await t.kit.expectStatus(204, 'DELETE', `/api/v1/comments/${c.id}`, { as: author });
    await t.kit.expectStatus(404, 'GET', `/api/v1/comments/${c.id}`, { as: author });
    const votes = await sql<{
      n: string;
    }>`select count(*) as n from community.comment_votes where comment_id = ${c.id}`.execute(
      t.kit.app.platform.database.db,
    );
    expect(Number(votes.rows[0]?.n)).toBe(0);
  });
});

describe('posting limits', () => {
  it('refuses posts past the per-user limit with 429 and the wait', async () => {
    const limited = await startCommunity({ settings: { COMMUNITY_POSTS_PER_WINDOW: 2 } });
    try {
      const course = await limited.course();
      const user = await limited.kit.caller('learner');
      const post = () =>
        limited.kit.request('POST', `/api/v1/lessons/${course.previewLessonId}/comments`, {
          as: user,
          body: { body: 'hello' },
        });
      expect((await post()).statusCode).toBe(201);
      expect((await post()).statusCode).toBe(201);
      const third = await post();
      expect(third.statusCode).toBe(429);
      expect(third.json()).toMatchObject({ code: 'community.posting-too-fast' });
      limited.clock.advance(61);
      expect((await post()).statusCode).toBe(201);
    } finally {
      await limited.kit.stop();
    }
  }, 60_000);

  it('an edit that names someone new spends the same budget; other edits do not', async () => {
    const limited = await startCommunity({ settings: { COMMUNITY_POSTS_PER_WINDOW: 2 } });
    try {
      const course = await limited.course();
      const [author, alice, bob] = [
        await limited.kit.caller('learner'),
        await limited.kit.caller('learner'),
        await limited.kit.caller('learner'),
      ];
      await limited.register(alice, 'Alice');
      await limited.register(bob, 'Bob');
      const c = await limited.kit.expectStatus<CommentWire>(
        201,
        'POST',
        `/api/v1/lessons/${course.previewLessonId}/comments`,
        { as: author, body: { body: 'Thanks @Alice' } },
      );
      const edit = (body: string) =>
        limited.kit.request('PATCH', `/api/v1/comments/${c.id}`, { as: author, body: { body } });
      // the same person again: no budget spent
      expect((await edit('Thanks @Alice!')).statusCode).toBe(200);
      // Bob is new: the second post of the window
      expect((await edit('Thanks @Alice and @Bob')).statusCode).toBe(200);
      // the same two, then fewer: nothing spent
      expect((await edit('Thanks @Bob, and @Alice')).statusCode).toBe(200);
      expect((await edit('Thanks @Bob')).statusCode).toBe(200);
      // Alice named again after she was taken out is new again: past the budget
      const again = await edit('Thanks @Bob and @Alice');
      expect(again.statusCode).toBe(429);
      expect(again.json()).toMatchObject({ code: 'community.posting-too-fast' });
      // refused before anything changed: the text and the mentions are the last accepted edit's
      const read = await limited.kit.expectStatus<CommentWire>(200, 'GET', `/api/v1/comments/${c.id}`, {
        as: author,
      });
      expect(read).toMatchObject({ body: 'Thanks @Bob', mentions: [bob.id] });
      limited.clock.advance(61);
      expect((await edit('Thanks @Bob and @Alice')).statusCode).toBe(200);
    } finally {
      await limited.kit.stop();
    }
  }, 60_000);
});
