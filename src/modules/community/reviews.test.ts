import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../platform/db/database.js';
import { enqueue } from '../../platform/messaging/outbox.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { UserClosedEvent } from '../identity/index.js';
import { EntitlementGrantedEvent } from '../learning/index.js';
import type { Caller } from '../../../test/helpers/kit.js';
import { type CommunityTest, startCommunity } from './community.test-support.js';

interface ReviewWire {
  id: string;
  rating: number;
  body: string;
  verified: boolean;
  status: string;
  votes: { helpful: number; unhelpful: number; score: number; mine: boolean | null };
  reply: { body: string; status: string } | null;
  author?: { id: string; displayName: string | null };
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

const review = (as: Caller, courseId: string, rating: number, body = `Rated ${rating}`) =>
  t.kit.expectStatus<ReviewWire>(201, 'POST', `/api/v1/courses/${courseId}/reviews`, {
    as,
    body: { rating, body },
  });

describe('reviews', () => {
  it('only a buyer may review (403 with a code); a second review is 409; text comes back as sent', async () => {
    const course = await t.course();
    const stranger = await t.kit.caller('learner');
    const refused = await t.kit.request('POST', `/api/v1/courses/${course.id}/reviews`, {
      as: stranger,
      body: { rating: 5, body: 'Great' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'community.purchase-required' });

    const buyer = await t.buyer(course.id);
    const payload = '<script>alert("x")</script> & <b>bold</b>';
    const created = await review(buyer, course.id, 4, payload);
    expect(created).toMatchObject({ rating: 4, body: payload, verified: true, status: 'visible' });
    const raw = await t.kit.request('GET', `/api/v1/reviews/${created.id}`);
    expect(raw.headers['content-type']).toMatch(/application\/json/);
    expect(raw.json<ReviewWire>().body).toBe(payload);

    const again = await t.kit.request('POST', `/api/v1/courses/${course.id}/reviews`, {
      as: buyer,
      body: { rating: 5, body: 'Twice' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'community.already-reviewed' });
    const events = await t.kit.outbox('community', 'community.review.created');
    expect(events.filter((e) => (e.data as { reviewId: string }).reviewId === created.id)).toHaveLength(1);
  });

  it('bad input is a 400 naming the field and stores nothing', async () => {
    const course = await t.course();
    const buyer = await t.buyer(course.id);
    for (const [body, field] of [
      [{ rating: 5, body: '\u200B \u00A0' }, '/body/body'],
      [{ rating: 6, body: 'ok' }, '/body/rating'],
      [{ rating: 5, body: 'nul\u0000here' }, '/body/body'],
    ] as const) {
      const res = await t.kit.request('POST', `/api/v1/courses/${course.id}/reviews`, { as: buyer, body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.json())).toContain(field);
    }
    const list = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews`,
    );
    expect(list.data).toHaveLength(0);
  });

  it('another learner’s review cannot be edited or deleted (404); the author edits and deletes their own', async () => {
    const course = await t.course();
    const [author, other] = await t.buyers(course.id, 2);
    if (!author || !other) throw new Error('no buyers');
    const mine = await review(author, course.id, 3);
    // a vote on it, so deleting must take the vote rows along (foreign key with cascade)
    await t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${mine.id}/vote`, {
      as: other,
      body: { helpful: true },
    });

    for (const method of ['PATCH', 'DELETE'] as const) {
      const res = await t.kit.request(method, `/api/v1/reviews/${mine.id}`, {
        as: other,
        ...(method === 'PATCH' ? { body: { rating: 1 } } : {}),
      });
      expect(res.statusCode, method).toBe(404);
    }
    const edited = await t.kit.expectStatus<ReviewWire>(200, 'PATCH', `/api/v1/reviews/${mine.id}`, {
      as: author,
      body: { rating: 2, body: 'Changed my mind' },
    });
    expect(edited).toMatchObject({ rating: 2, body: 'Changed my mind' });

    await t.kit.expectStatus(204, 'DELETE', `/api/v1/reviews/${mine.id}`, { as: author });
    await t.kit.expectStatus(404, 'GET', `/api/v1/reviews/${mine.id}`);
    const deleted = await t.kit.outbox('community', 'community.review.deleted');
    expect(deleted.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ reviewId: mine.id, by: 'author' }),
    );
    await t.kit.settle();
    const rating = await t.kit.expectStatus<{ count: number }>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/rating`,
    );
    expect(rating.count).toBe(0);
    // the author may review again after deleting
    await review(author, course.id, 5);
  });

  it('the instructor posts one public reply; a learner may not', async () => {
    const course = await t.course();
    const buyer = await t.buyer(course.id);
    const r = await review(buyer, course.id, 4);
    const refused = await t.kit.request('PUT', `/api/v1/reviews/${r.id}/reply`, {
      as: buyer,
      body: { body: 'Me too' },
    });
    expect(refused.statusCode).toBe(403);
    await t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${r.id}/reply`, {
      as: t.instructor,
      body: { body: 'Thanks!' },
    });
    const replied = await t.kit.expectStatus<ReviewWire>(200, 'PUT', `/api/v1/reviews/${r.id}/reply`, {
      as: t.instructor,
      body: { body: 'Thank you!' },
    });
    expect(replied.reply).toMatchObject({ body: 'Thank you!' });
  });

  it('a refund takes the verified mark away, a late copy of the old grant does not bring it back, a new purchase does', async () => {
    const course = await t.course();
    const buyer = await t.buyer(course.id);
    const r = await review(buyer, course.id, 1, 'Not for me');
    expect(r.verified).toBe(true);
    await t.refund(buyer, course.id);
    await waitFor(
      async () => !(await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`)).verified,
      'the refund to take the verified mark away',
      20_000,
    );
    const updates = await t.kit.outbox('community', 'community.review.updated');
    expect(updates.map((e) => e.data)).toContainEqual(
      expect.objectContaining({ reviewId: r.id, change: 'verification', verified: false }),
    );

    // the grant of the refunded order delivered again after the revocation (at least once, any order):
    // the job asks learning, which no longer grants the course, so the mark stays off
    const db = t.kit.app.platform.database.db;
    const lateGrant = EntitlementGrantedEvent.create(randomUUID(), {
      userId: buyer.id,
      courseId: course.id,
      source: 'order',
      sourceId: buyer.orderId,
      grantedAt: t.clock().toISOString(),
    });
    await inTransaction(db, (trx) => enqueue(trx, 'learning', [lateGrant]));
    await t.kit.settle();
    await t.jobsDone('community.verify-purchase');
    expect((await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`)).verified).toBe(
      false,
    );

    // bought again: learning grants it anew and the mark comes back
    await t.buyAgain(buyer, course.id);
    // eventually consistent: the mark follows once the job that asks learning has run
    await waitFor(
      async () => (await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`)).verified,
      'the verified mark to come back',
      20_000,
    );
  });

  it('an instructor’s reply goes through the word list: held until a moderator approves it', async () => {
    const course = await t.course();
    const buyer = await t.buyer(course.id);
    const r = await review(buyer, course.id, 4);
    const mine = await t.kit.expectStatus<ReviewWire>(200, 'PUT', `/api/v1/reviews/${r.id}/reply`, {
      as: t.instructor,
      body: { body: 'Thanks! Get ＦＲＥＥ Crypto on my site' },
    });
    expect(mine.reply).toMatchObject({ status: 'held' });
    // readers do not see a held reply, in the review or in the list
    expect((await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`)).reply).toBeNull();
    const list = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews`,
      { as: buyer },
    );
    expect(list.data.find((x) => x.id === r.id)?.reply).toBeNull();
    const queue = await t.kit.expectStatus<PageWire<{ id: string; heldReply: string | null }>>(
      200,
      'GET',
      '/api/v1/admin/community/queue?limit=100',
      { as: t.admin },
    );
    expect(queue.data).toContainEqual(
      expect.objectContaining({ id: r.id, heldReply: 'Thanks! Get ＦＲＥＥ Crypto on my site' }),
    );
    // a comment has no reply to decide on
    const c = await t.kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      {
        as: buyer,
        body: { body: 'A question' },
      },
    );
    const wrong = await t.kit.request('POST', `/api/v1/admin/community/comments/${c.id}/decision`, {
      as: t.admin,
      body: { action: 'approve', reason: 'fine', part: 'reply' },
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'community.no-reply-to-moderate' });

    await t.kit.expectStatus(200, 'POST', `/api/v1/admin/community/reviews/${r.id}/decision`, {
      as: t.admin,
      body: { action: 'approve', reason: 'the link is the course site', part: 'reply' },
    });
    const shown = await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`);
    expect(shown.reply).toMatchObject({ status: 'visible', body: 'Thanks! Get ＦＲＥＥ Crypto on my site' });
    expect(shown.status).toBe('visible');
    const audit = await t.kit.expectStatus<{
      data: { action: string; reason: string | null; part: string; authorId: string | null }[];
    }>(200, 'GET', `/api/v1/admin/community/reviews/${r.id}/audit`, { as: t.admin });
    // about the reply, whose author is the instructor, not the review's
    expect(audit.data.map((a) => [a.action, a.reason, a.part, a.authorId])).toEqual([
      ['held', 'reply, word list: freecrypto', 'reply', t.instructor.id],
      ['approved', 'reply: the link is the course site', 'reply', t.instructor.id],
    ]);
  });
});

describe('ratings', () => {
  it('keeps count, mean and distribution, and orders courses by the Bayesian average (m 3.5, C 10)', async () => {
    const lone = await t.course();
    const popular = await t.course();
    const [solo] = await t.buyers(lone.id, 1);
    if (!solo) throw new Error('no buyer');
    await review(solo, lone.id, 5);
    const crowd = await t.buyers(popular.id, 20);
    // 16 × 5★ and 4 × 4★: mean 96 / 20 = 4.8
    for (const [i, b] of crowd.entries()) await review(b, popular.id, i < 16 ? 5 : 4);
    await t.kit.settle();

    const a = await t.kit.expectStatus(200, 'GET', `/api/v1/courses/${lone.id}/rating`);
    expect(a).toMatchObject({ count: 1, mean: 5, distribution: { '1': 0, '2': 0, '3': 0, '4': 0, '5': 1 } });
    // (10 · 3.5 + 5) / (10 + 1) = 40 / 11
    expect(a.bayesian).toBeCloseTo(3.636364, 5);
    const b = await t.kit.expectStatus(200, 'GET', `/api/v1/courses/${popular.id}/rating`);
    expect(b).toMatchObject({
      count: 20,
      mean: 4.8,
      distribution: { '1': 0, '2': 0, '3': 0, '4': 4, '5': 16 },
    });
    // (35 + 96) / 30
    expect(b.bayesian).toBeCloseTo(4.366667, 5);

    const ranked = await t.kit.expectStatus<PageWire<{ courseId: string }>>(
      200,
      'GET',
      '/api/v1/course-ratings?limit=100',
    );
    const ids = ranked.data.map((r) => r.courseId);
    expect(ids.indexOf(popular.id)).toBeLessThan(ids.indexOf(lone.id));
    expect(ids.indexOf(popular.id)).toBeGreaterThanOrEqual(0);
  });
});

describe('nightly recount', () => {
  it('repairs drifted rating aggregates, vote counts and scores from the rows, and changes nothing when run again', async () => {
    const course = await t.course();
    const [a, b, voter] = await t.buyers(course.id, 3);
    if (!a || !b || !voter) throw new Error('no buyers');
    const ra = await review(a, course.id, 5);
    await review(b, course.id, 2);
    await t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${ra.id}/vote`, {
      as: voter,
      body: { helpful: true },
    });
    const c = await t.kit.expectStatus<{ id: string }>(
      201,
      'POST',
      `/api/v1/lessons/${course.paidLessonId}/comments`,
      { as: a, body: { body: 'A question' } },
    );
    await t.kit.expectStatus(200, 'PUT', `/api/v1/comments/${c.id}/vote`, {
      as: b,
      body: { helpful: false },
    });
    await t.kit.settle();
    const rating = () => t.kit.expectStatus(200, 'GET', `/api/v1/courses/${course.id}/rating`);
    const right = await rating();
    expect(right).toMatchObject({ count: 2, mean: 3.5 });

    // drift, as a lost event, a bug or a restore would leave it
    const db = t.kit.app.platform.database.db;
    await sql`update community.course_ratings set count = 7, sum = 1, r5 = 0, bayesian = 1 where course_id = ${course.id}`.execute(
      db,
    );
    await sql`update community.reviews set up_votes = 9, down_votes = 3, wilson = 0.9 where id = ${ra.id}`.execute(
      db,
    );
    await sql`update community.comments set up_votes = 4, wilson = 0.5 where id = ${c.id}`.execute(db);
    expect(await rating()).toMatchObject({ count: 7 });

    await t.runJob('community.recount');
    expect(await rating()).toEqual(right);
    const r = await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${ra.id}`);
    // one helpful vote of one: the Wilson lower bound of 1/1 (z 1.96)
    expect(r.votes).toMatchObject({ helpful: 1, unhelpful: 0, score: expect.closeTo(0.20654, 4) });
    const comment = await t.kit.expectStatus<{ votes: ReviewWire['votes'] }>(
      200,
      'GET',
      `/api/v1/comments/${c.id}`,
    );
    expect(comment.votes).toMatchObject({ helpful: 0, unhelpful: 1, score: 0 });

    // idempotent: a second run finds nothing to write (the aggregate row keeps its time)
    const stamp = async () =>
      (
        await sql<{
          at: Date;
        }>`select updated_at as at from community.course_ratings where course_id = ${course.id}`.execute(db)
      ).rows[0]?.at.toISOString();
    const before = await stamp();
    t.clock.advance(3600);
    await t.runJob('community.recount');
    expect(await stamp()).toBe(before);
    expect(await rating()).toEqual(right);
  });
});

describe('votes and orders', () => {
  it('orders by Wilson lower bound (z 1.96) and by helpful count, with keyset pages and typed cursors', async () => {
    const course = await t.course();
    const authors = await t.buyers(course.id, 4);
    // a minute apart, so "newest" and "oldest" are told by time, not by the id that breaks ties
    const written: ReviewWire[] = [];
    for (const [i, a] of authors.entries()) {
      written.push(await review(a, course.id, 5, `Review ${i + 1}`));
      t.clock.advance(60);
    }
    const [r1, r2, r3, r4] = written;
    if (!r1 || !r2 || !r3 || !r4) throw new Error('no reviews');
    const voters = await Promise.all(Array.from({ length: 6 }, () => t.kit.caller('learner')));
    const vote = (id: string, voter: Caller, helpful: boolean) =>
      t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${id}/vote`, { as: voter, body: { helpful } });
    // r1: 1 up; r2: 5 up 1 down; r3: none; r4: 3 up 3 down
    await vote(r1.id, voters[0] as Caller, true);
    for (const [i, v] of voters.entries()) await vote(r2.id, v, i < 5);
    for (const [i, v] of voters.entries()) await vote(r4.id, v, i < 3);

    const best = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews?sort=best`,
    );
    expect(best.data.map((r) => r.id)).toEqual([r2.id, r1.id, r4.id, r3.id]);
    // hand-computed lower bounds: 5/6 → 0.43649, 1/1 → 0.20654, 3/6 → 0.18761
    expect(best.data.map((r) => r.votes.score)).toEqual([
      expect.closeTo(0.43649, 4),
      expect.closeTo(0.20654, 4),
      expect.closeTo(0.18761, 4),
      0,
    ]);
    const helpful = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews?sort=helpful`,
    );
    expect(helpful.data.map((r) => r.id)).toEqual([r2.id, r4.id, r1.id, r3.id]);

    // two pages of two in "best" order
    const first = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews?sort=best&limit=2`,
    );
    expect(first.nextCursor).not.toBeNull();
    const second = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews?sort=best&limit=2&cursor=${first.nextCursor ?? ''}`,
    );
    expect([...first.data, ...second.data].map((r) => r.id)).toEqual([r2.id, r1.id, r4.id, r3.id]);
    expect(second.nextCursor).toBeNull();

    const oldest = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews?sort=oldest&limit=100`,
    );
    const newest = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews?sort=newest&limit=100`,
    );
    expect(oldest.data.map((r) => r.id)).toEqual([r1.id, r2.id, r3.id, r4.id]);
    expect(newest.data.map((r) => r.id)).toEqual([r4.id, r3.id, r2.id, r1.id]);

    for (const cursor of [
      'not-a-cursor',
      Buffer.from(JSON.stringify(['best', 'x', r1.id])).toString('base64url'),
      // the right order, a value of the wrong type, a huge number, an id that is not a uuid
      Buffer.from(JSON.stringify(['helpful', 'x', r1.id])).toString('base64url'),
      Buffer.from(JSON.stringify(['helpful', 1e300, r1.id])).toString('base64url'),
      Buffer.from(JSON.stringify(['helpful', 3, "'; drop table x; --"])).toString('base64url'),
      first.nextCursor ?? '', // a "best" cursor sent to the "helpful" order
    ]) {
      const res = await t.kit.request(
        'GET',
        `/api/v1/courses/${course.id}/reviews?sort=helpful&cursor=${cursor}`,
      );
      expect(res.statusCode, cursor).toBe(400);
      expect(res.json()).toMatchObject({ code: 'request.bad-cursor' });
    }
  });

  it('a listed review is the review read alone, for anyone and for a reader with votes (times, reply, own vote, name, mark, date cursors)', async () => {
    const course = await t.course();
    const [a, b, c] = await t.buyers(course.id, 3);
    if (!a || !b || !c) throw new Error('no buyers');
    await t.register(a, 'Ada "the reviewer" \\ Lovelace');
    // PostgreSQL writes a listed review's JSON: text that JSON must escape comes back as sent
    const bodies = [
      'Listed 1: "quoted", back\\slash, tab\tand\nnew line',
      'Listed 2 <script>alert(1)</script> 好课 😀',
      'Listed 3',
    ];
    const written: ReviewWire[] = [];
    for (const [i, author] of [a, b, c].entries()) {
      written.push(await review(author, course.id, i + 2, bodies[i]));
      t.clock.advance(61.5);
    }
    const [r1, r2, r3] = written;
    if (!r1 || !r2 || !r3) throw new Error('no reviews');
    await t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${r1.id}/reply`, {
      as: t.instructor,
      body: { body: 'Thanks for this' },
    });
    // a held reply is shown to no reader, in the list or alone
    await t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${r2.id}/reply`, {
      as: t.instructor,
      body: { body: 'Get ＦＲＥＥ Crypto on my site' },
    });
    // a refund takes the verified mark away, in the list as alone
    await t.refund(c, course.id);
    await waitFor(
      async () => !(await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r3.id}`)).verified,
      'the refund to take the verified mark away',
      20_000,
    );
    const voter = await t.kit.caller('learner');
    await t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${r2.id}/vote`, {
      as: voter,
      body: { helpful: false },
    });
    await t.kit.expectStatus(200, 'PUT', `/api/v1/reviews/${r3.id}/vote`, {
      as: voter,
      body: { helpful: true },
    });

    for (const as of [undefined, voter]) {
      const caller = as ? { as } : {};
      // one review a page in "newest" order: every page after the first is read from a time cursor
      const listed: ReviewWire[] = [];
      let cursor: string | null = '';
      do {
        const page: PageWire<ReviewWire> = await t.kit.expectStatus<PageWire<ReviewWire>>(
          200,
          'GET',
          `/api/v1/courses/${course.id}/reviews?sort=newest&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
          caller,
        );
        listed.push(...page.data);
        cursor = page.nextCursor;
      } while (cursor);
      const alone = [];
      for (const r of [r3, r2, r1]) {
        alone.push(await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`, caller));
      }
      expect(listed).toEqual(alone);
      expect(listed.map((r) => r.votes.mine)).toEqual(as ? [true, false, null] : [null, null, null]);
      expect(listed.map((r) => [r.body, r.verified, r.reply?.body ?? null])).toEqual([
        [bodies[2], false, null],
        [bodies[1], true, null],
        [bodies[0], true, 'Thanks for this'],
      ]);
      expect(listed[2]).toMatchObject({ author: { displayName: 'Ada "the reviewer" \\ Lovelace' } });
      // a page of the default size (a named statement), twice (anonymous: the second from the cache)
      for (let i = 0; i < 2; i++) {
        const res = await t.kit.request('GET', `/api/v1/courses/${course.id}/reviews?sort=newest`, caller);
        expect(res.statusCode).toBe(200);
        expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(res.json()).toEqual({ data: alone, nextCursor: null });
      }
    }
    const [listedR1] = (
      await t.kit.expectStatus<
        PageWire<ReviewWire & { createdAt: string; reply: { repliedAt: string } | null }>
      >(200, 'GET', `/api/v1/courses/${course.id}/reviews?sort=oldest&limit=1`)
    ).data;
    expect(listedR1?.reply?.repliedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(listedR1?.createdAt).toBe(new Date(Date.parse(listedR1?.createdAt ?? '')).toISOString());
  });

  it('20 concurrent identical votes make one vote; DELETE takes it back, twice is fine', async () => {
    const course = await t.course();
    const author = await t.buyer(course.id);
    const r = await review(author, course.id, 5);
    const voter = await t.kit.caller('learner');
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.kit.request('PUT', `/api/v1/reviews/${r.id}/vote`, { as: voter, body: { helpful: true } }),
      ),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array.from({ length: 20 }, () => 200));
    const after = await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`, { as: voter });
    expect(after.votes).toMatchObject({ helpful: 1, unhelpful: 0, mine: true });
    for (let i = 0; i < 2; i++) {
      const cleared = await t.kit.expectStatus<ReviewWire['votes']>(
        200,
        'DELETE',
        `/api/v1/reviews/${r.id}/vote`,
        {
          as: voter,
        },
      );
      expect(cleared).toMatchObject({ helpful: 0, unhelpful: 0, score: 0, mine: null });
    }
  });
});

describe('moderation', () => {
  it('a moderator hides a review (only author and moderators see it) and restores it, with an audit trail', async () => {
    const course = await t.course();
    const author = await t.buyer(course.id);
    const reader = await t.kit.caller('learner');
    const r = await review(author, course.id, 2, 'Rude words here');
    await t.kit.expectStatus(202, 'POST', `/api/v1/reviews/${r.id}/reports`, {
      as: reader,
      body: { reason: 'rude' },
    });
    const queue = await t.kit.expectStatus<PageWire<{ id: string; openReports: number }>>(
      200,
      'GET',
      '/api/v1/admin/community/queue?limit=100',
      { as: t.admin },
    );
    expect(queue.data).toContainEqual(expect.objectContaining({ id: r.id, openReports: 1 }));
    await t.kit.expectStatus(403, 'GET', '/api/v1/admin/community/queue', { as: reader });

    await t.kit.expectStatus(200, 'POST', `/api/v1/admin/community/reviews/${r.id}/decision`, {
      as: t.admin,
      body: { action: 'hide', reason: 'abusive' },
    });
    await t.kit.expectStatus(404, 'GET', `/api/v1/reviews/${r.id}`, { as: reader });
    await t.kit.expectStatus(404, 'GET', `/api/v1/reviews/${r.id}`);
    expect(
      await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${r.id}`, { as: author }),
    ).toMatchObject({
      status: 'hidden',
    });
    const hiddenList = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews`,
    );
    expect(hiddenList.data.map((x) => x.id)).not.toContain(r.id);
    await t.kit.expectStatus(404, 'PUT', `/api/v1/reviews/${r.id}/vote`, {
      as: reader,
      body: { helpful: true },
    });

    await t.kit.expectStatus(200, 'POST', `/api/v1/admin/community/reviews/${r.id}/decision`, {
      as: t.admin,
      body: { action: 'approve', reason: 'on second look it is fine' },
    });
    const restored = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews`,
    );
    expect(restored.data.map((x) => x.id)).toContain(r.id);
    // the trail outlives the review, and still says whose it was
    await t.kit.expectStatus(200, 'POST', `/api/v1/admin/community/reviews/${r.id}/decision`, {
      as: t.admin,
      body: { action: 'delete', reason: 'abusive after all' },
    });
    await t.kit.expectStatus(404, 'GET', `/api/v1/reviews/${r.id}`, { as: author });
    const audit = await t.kit.expectStatus<{
      data: { action: string; actorId: string | null; authorId: string | null; part: string }[];
    }>(200, 'GET', `/api/v1/admin/community/reviews/${r.id}/audit`, { as: t.admin });
    expect(audit.data.map((a) => a.action)).toEqual(['reported', 'hidden', 'approved', 'deleted']);
    expect(audit.data[1]?.actorId).toBe(t.admin.id);
    expect(audit.data.map((a) => [a.authorId, a.part])).toEqual(Array(4).fill([author.id, 'item']));
  });

  it('text with a listed word (any width or case) is held until a moderator approves it', async () => {
    const course = await t.course();
    const author = await t.buyer(course.id);
    const r = await review(author, course.id, 5, 'Get ＦＲＥＥ Crypto from my site');
    expect(r.status).toBe('held');
    const zh = await t.buyer(course.id);
    expect((await review(zh, course.id, 5, '需要代开发票请联系')).status).toBe('held');
    const list = await t.kit.expectStatus<PageWire<ReviewWire>>(
      200,
      'GET',
      `/api/v1/courses/${course.id}/reviews`,
    );
    expect(list.data).toHaveLength(0);
    await t.kit.expectStatus(404, 'GET', `/api/v1/reviews/${r.id}`);
    const queue = await t.kit.expectStatus<PageWire<{ id: string; status: string }>>(
      200,
      'GET',
      '/api/v1/admin/community/queue?limit=100',
      { as: t.admin },
    );
    expect(queue.data).toContainEqual(expect.objectContaining({ id: r.id, status: 'held' }));
    await t.kit.expectStatus(200, 'POST', `/api/v1/admin/community/reviews/${r.id}/decision`, {
      as: t.admin,
      body: { action: 'approve', reason: 'a joke between classmates' },
    });
    await t.kit.expectStatus(200, 'GET', `/api/v1/reviews/${r.id}`);
    // an edit with a listed word holds it again; each entry of the log names the review's author
    await t.kit.expectStatus(200, 'PATCH', `/api/v1/reviews/${r.id}`, {
      as: author,
      body: { body: 'Now get ＦＲＥＥ Crypto here' },
    });
    const audit = await t.kit.expectStatus<{
      data: { action: string; actorId: string | null; authorId: string | null }[];
    }>(200, 'GET', `/api/v1/admin/community/reviews/${r.id}/audit`, { as: t.admin });
    expect(audit.data.map((a) => [a.action, a.actorId, a.authorId])).toEqual([
      ['held', null, author.id],
      ['approved', t.admin.id, author.id],
      ['held', null, author.id],
    ]);
  });

  it("a closed account's name leaves its reviews; the review stays, with no name, and other authors keep theirs", async () => {
    const course = await t.course();
    const [leaving, staying] = await t.buyers(course.id, 2);
    if (!leaving || !staying) throw new Error('no buyers');
    await t.register(leaving, '要注销的人');
    await t.register(staying, 'Stays');
    const gone = await review(leaving, course.id, 4, 'Useful course');
    const kept = await review(staying, course.id, 5, 'Also useful');
    // the names on the course's page, anonymous (cached) or signed in
    const namesOnPage = async (options?: { as: Caller }) => {
      const page = await t.kit.expectStatus<{ data: ReviewWire[] }>(
        200,
        'GET',
        `/api/v1/courses/${course.id}/reviews?sort=newest`,
        options,
      );
      return Object.fromEntries(page.data.map((r) => [r.id, r.author?.displayName ?? null]));
    };
    // the anonymous page, cached with the name on it
    expect(await namesOnPage()).toEqual({ [kept.id]: 'Stays', [gone.id]: '要注销的人' });

    await inTransaction(t.kit.app.platform.database.db, (trx) =>
      enqueue(trx, 'identity', [
        UserClosedEvent.create(leaving.id, { userId: leaving.id, closedAt: new Date().toISOString() }),
      ]),
    );
    await t.kit.settle();

    const signedIn = { as: staying };
    const alone = await t.kit.expectStatus<ReviewWire>(200, 'GET', `/api/v1/reviews/${gone.id}`, signedIn);
    expect(alone).toMatchObject({ body: 'Useful course', author: { id: leaving.id, displayName: null } });
    expect(await namesOnPage(signedIn)).toEqual({
      [kept.id]: 'Stays',
      [gone.id]: null,
    });
    // the cached anonymous page was dropped with the name, not left to its TTL
    expect(await namesOnPage()).toEqual({ [kept.id]: 'Stays', [gone.id]: null });
  });
});
