import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CommentApprovedEvent,
  type CommentCreated,
  CommentCreatedEvent,
  type CommentEdited,
  CommentEditedEvent,
  CommentRepliedEvent,
  type ReviewCreated,
  ReviewCreatedEvent,
  ReviewUpdatedEvent,
} from '../community/index.js';
import { createLogger } from '../../platform/observability/logger.js';
import { createInProcessBus } from '../../platform/messaging/in-process-bus.js';
import { createJetStreamBus } from '../../platform/messaging/jetstream-bus.js';
import { isolatedStream } from '../../platform/messaging/test-support.js';
import type { BusSubscription, EventBus, EventEnvelope } from '../../platform/messaging/types.js';
import type { Caller } from '../../../test/helpers/kit.js';
import { KIND_NAMES } from './kinds.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';
import { LOCALES, render, SAMPLE_PAYLOADS } from './templates.js';

let t: NotifyTest;
beforeAll(async () => {
  t = await startNotify();
});
afterAll(async () => {
  await t.stop();
});

const inboxOf = async (who: Caller) => (await t.inbox(who.token)).data;
const kindsOf = async (who: Caller) => (await inboxOf(who)).map((n) => n.kind);

const learner = () => t.caller('learner');

/** A visible top-level comment by `authorId`, in the shape community writes now. */
function comment(authorId: string, overrides: Partial<CommentCreated> = {}): CommentCreated {
  return {
    commentId: randomUUID(),
    lessonId: randomUUID(),
    courseId: randomUUID(),
    parentId: null,
    parentAuthorId: null,
    authorId,
    byInstructor: false,
    status: 'visible',
    mentionedUserIds: [],
    createdAt: new Date().toISOString(),
    instructorIds: [],
    ...overrides,
  };
}

/** The author's edit of `created`, naming `mentioned` now: whom it adds and removes, as community works them out. */
function edited(
  created: CommentCreated,
  mentioned: string[],
  before: string[] = created.mentionedUserIds,
): CommentEdited {
  return {
    commentId: created.commentId,
    lessonId: created.lessonId,
    courseId: created.courseId,
    parentId: created.parentId,
    parentAuthorId: created.parentAuthorId ?? null,
    authorId: created.authorId,
    byInstructor: created.byInstructor,
    status: created.status,
    mentionedUserIds: mentioned,
    addedMentionIds: mentioned.filter((id) => !before.includes(id)),
    removedMentionIds: before.filter((id) => !mentioned.includes(id)),
    instructorIds: created.instructorIds ?? [],
    editedAt: new Date().toISOString(),
  };
}

function review(authorId: string, overrides: Partial<ReviewCreated> = {}): ReviewCreated {
  return {
    reviewId: randomUUID(),
    courseId: randomUUID(),
    authorId,
    rating: 4,
    verified: true,
    status: 'visible',
    createdAt: new Date().toISOString(),
    instructorIds: [],
    ...overrides,
  };
}

describe('community notices', () => {
  it('a mention reaches each person named once; not the author, and an instructor asked a question hears of the question only', async () => {
    const [author, named, other, owner, co] = await Promise.all([
      learner(),
      learner(),
      learner(),
      learner(),
      learner(),
    ]);
    const data = comment(author.id, {
      // community leaves the author out; notify does not count on it
      mentionedUserIds: [named.id, other.id, author.id, co.id],
      instructorIds: [owner.id, co.id],
    });
    const event = await t.emit(CommentCreatedEvent, data);
    // the same event again, and another event about the same comment
    await t.emit(CommentCreatedEvent, data, { id: event.id });
    await t.emit(CommentCreatedEvent, data);

    for (const who of [named, other]) expect(await kindsOf(who)).toEqual(['comment_mentioned']);
    const [notice] = await inboxOf(named);
    expect(notice).toMatchObject({
      title: 'You were mentioned in a comment',
      data: { commentId: data.commentId, lessonId: data.lessonId, courseId: data.courseId, parentId: null },
    });
    // a learner's top-level comment is a question to the course's owner and instructors
    for (const who of [owner, co]) expect(await kindsOf(who)).toEqual(['lesson_question']);
    expect((await inboxOf(owner))[0]).toMatchObject({
      title: 'New question on your lesson',
      data: { commentId: data.commentId, lessonId: data.lessonId },
    });
    expect(await kindsOf(author)).toEqual([]);
  });

  it('a reply tells the author replied to by comment_replied only, even when it names them; a reply is no question', async () => {
    const [asker, replier, named, owner] = await Promise.all([learner(), learner(), learner(), learner()]);
    const parentId = randomUUID();
    const data = comment(replier.id, {
      parentId,
      parentAuthorId: asker.id,
      mentionedUserIds: [asker.id, named.id],
      instructorIds: [owner.id],
    });
    await t.emit(CommentCreatedEvent, data);
    await t.emit(CommentRepliedEvent, {
      commentId: data.commentId,
      parentId,
      parentAuthorId: asker.id,
      lessonId: data.lessonId,
      courseId: data.courseId,
      authorId: replier.id,
      byInstructor: false,
      excerpt: 'See @asker',
      repliedAt: data.createdAt,
    });
    expect(await kindsOf(asker)).toEqual(['comment_replied']);
    expect(await kindsOf(named)).toEqual(['comment_mentioned']);
    expect((await inboxOf(named))[0]?.data).toMatchObject({ parentId });
    expect(await kindsOf(owner)).toEqual([]);
  });

  it('an instructor’s own top-level comment is no question: nobody of the course is told', async () => {
    const [owner, co] = await Promise.all([learner(), learner()]);
    await t.emit(
      CommentCreatedEvent,
      comment(owner.id, { byInstructor: true, instructorIds: [owner.id, co.id] }),
    );
    expect(await kindsOf(owner)).toEqual([]);
    expect(await kindsOf(co)).toEqual([]);
  });

  it('a held comment tells nobody until a moderator lets it out, then once', async () => {
    const [author, named, owner] = await Promise.all([learner(), learner(), learner()]);
    const data = comment(author.id, {
      status: 'held',
      mentionedUserIds: [named.id],
      instructorIds: [owner.id],
    });
    await t.emit(CommentCreatedEvent, data);
    expect(await kindsOf(named)).toEqual([]);
    expect(await kindsOf(owner)).toEqual([]);

    const approved = {
      commentId: data.commentId,
      lessonId: data.lessonId,
      courseId: data.courseId,
      parentId: null,
      parentAuthorId: null,
      authorId: author.id,
      byInstructor: false,
      mentionedUserIds: [named.id],
      instructorIds: [owner.id],
      approvedAt: new Date().toISOString(),
    };
    const event = await t.emit(CommentApprovedEvent, approved);
    await t.emit(CommentApprovedEvent, approved, { id: event.id });
    // approved again after a later hold (an edit caught by the word list): the same notices
    await t.emit(CommentApprovedEvent, approved);
    expect(await kindsOf(named)).toEqual(['comment_mentioned']);
    expect(await kindsOf(owner)).toEqual(['lesson_question']);
    expect(await kindsOf(author)).toEqual([]);
  });

  it('a comment made visible at once and approved after a later hold is announced once', async () => {
    const [author, named, owner] = await Promise.all([learner(), learner(), learner()]);
    const data = comment(author.id, { mentionedUserIds: [named.id], instructorIds: [owner.id] });
    await t.emit(CommentCreatedEvent, data);
    await t.emit(CommentApprovedEvent, {
      ...data,
      parentAuthorId: null,
      approvedAt: new Date().toISOString(),
    });
    expect(await kindsOf(named)).toEqual(['comment_mentioned']);
    expect(await kindsOf(owner)).toEqual(['lesson_question']);
  });

  it('an edit tells whom it names for the first time once; nobody named before, removed and named again, the author, the parent’s author or the team of a question', async () => {
    const [author, alice, bob, asker, owner] = await Promise.all([
      learner(),
      learner(),
      learner(),
      learner(),
      learner(),
    ]);
    const created = comment(author.id, { mentionedUserIds: [alice.id], instructorIds: [owner.id] });
    await t.emit(CommentCreatedEvent, created);
    // alice was told when the comment was written and has since deleted the notice: still told once
    const [told] = await t.rows<{ id: string }>('notifications', `recipient_id = '${alice.id}'`);
    await t.expectStatus(204, 'DELETE', `/api/v1/me/notifications/${told?.id ?? ''}`, { as: alice });
    const addBob = edited(created, [alice.id, bob.id]);
    expect(addBob.addedMentionIds).toEqual([bob.id]);
    const event = await t.emit(CommentEditedEvent, addBob);
    await t.emit(CommentEditedEvent, addBob, { id: event.id });
    expect(await kindsOf(alice)).toEqual([]);
    // bob taken out, then named again (with the author, whom community leaves out anyway, and
    // the owner, told of the question already)
    await t.emit(CommentEditedEvent, edited(created, [alice.id], [alice.id, bob.id]));
    await t.emit(CommentEditedEvent, edited(created, [alice.id, bob.id, author.id, owner.id], [alice.id]));
    expect(await kindsOf(alice)).toEqual([]);
    expect(await kindsOf(bob)).toEqual(['comment_mentioned']);
    expect((await inboxOf(bob))[0]).toMatchObject({
      title: 'You were mentioned in a comment',
      data: { commentId: created.commentId, lessonId: created.lessonId, parentId: null },
    });
    expect(await kindsOf(author)).toEqual([]);
    expect(await kindsOf(owner)).toEqual(['lesson_question']);

    // a reply naming the author it replies to: told by comment_replied, not by a mention
    const reply = comment(author.id, { parentId: randomUUID(), parentAuthorId: asker.id });
    await t.emit(CommentCreatedEvent, reply);
    await t.emit(CommentEditedEvent, edited(reply, [asker.id]));
    expect(await kindsOf(asker)).toEqual([]);
  });

  it('an edit of a held comment tells nobody; the approval tells whom it names then, once', async () => {
    const [author, named, later] = await Promise.all([learner(), learner(), learner()]);
    const created = comment(author.id, { status: 'held', mentionedUserIds: [named.id] });
    await t.emit(CommentCreatedEvent, created);
    const addLater = edited(created, [named.id, later.id]);
    await t.emit(CommentEditedEvent, addLater);
    // nor while hidden
    await t.emit(CommentEditedEvent, { ...edited(created, [later.id]), status: 'hidden' });
    expect(await kindsOf(named)).toEqual([]);
    expect(await kindsOf(later)).toEqual([]);
    await t.emit(CommentApprovedEvent, {
      commentId: created.commentId,
      lessonId: created.lessonId,
      courseId: created.courseId,
      parentId: null,
      parentAuthorId: null,
      authorId: author.id,
      byInstructor: false,
      mentionedUserIds: [named.id, later.id],
      approvedAt: new Date().toISOString(),
    });
    // a later visible edit naming them again tells nobody twice
    await t.emit(CommentEditedEvent, { ...addLater, status: 'visible' });
    expect(await kindsOf(named)).toEqual(['comment_mentioned']);
    expect(await kindsOf(later)).toEqual(['comment_mentioned']);
  });

  it('events written before community sent instructors are accepted: mentions go out, no instructor is told', async () => {
    const [author, named, reviewer] = await Promise.all([learner(), learner(), learner()]);
    const {
      instructorIds: _i,
      parentAuthorId: _p,
      ...oldComment
    } = comment(author.id, {
      mentionedUserIds: [named.id],
    });
    const { instructorIds: _r, ...oldReview } = review(reviewer.id);
    expect(CommentCreatedEvent.problems(oldComment)).toBeUndefined();
    expect(ReviewCreatedEvent.problems(oldReview)).toBeUndefined();
    const events = [
      await t.emit(CommentCreatedEvent, oldComment),
      await t.emit(ReviewCreatedEvent, oldReview),
    ];
    expect(await kindsOf(named)).toEqual(['comment_mentioned']);
    const told = await t.rows<{ payload: { commentId?: string; reviewId?: string } }>(
      'notifications',
      `kind in ('lesson_question', 'course_reviewed')`,
    );
    const sources = told.map((n) => n.payload.commentId ?? n.payload.reviewId);
    expect(sources).not.toContain(oldComment.commentId);
    expect(sources).not.toContain(oldReview.reviewId);
    const refused = await t.app.platform.database.db
      .withTables<{ 'platform.dead_letters': { event_id: string } }>()
      .selectFrom('platform.dead_letters')
      .select('event_id')
      .where(
        'event_id',
        'in',
        events.map((e) => e.id),
      )
      .execute();
    expect(refused).toEqual([]);
  });

  it('a new visible review reaches the course’s owner and instructors once, with the rating; never its author', async () => {
    const [author, owner, co] = await Promise.all([learner(), learner(), learner()]);
    const data = review(author.id, { rating: 5, instructorIds: [owner.id, co.id, author.id] });
    const event = await t.emit(ReviewCreatedEvent, data);
    await t.emit(ReviewCreatedEvent, data, { id: event.id });
    await t.emit(ReviewCreatedEvent, data);
    for (const who of [owner, co]) expect(await kindsOf(who)).toEqual(['course_reviewed']);
    expect((await inboxOf(co))[0]).toMatchObject({
      title: 'New 5-star review of your course',
      data: { reviewId: data.reviewId, courseId: data.courseId, rating: 5 },
    });
    expect(await kindsOf(author)).toEqual([]);
  });

  it('a held review tells nobody until a moderator lets it out; other changes tell nobody', async () => {
    const [author, owner, other] = await Promise.all([learner(), learner(), learner()]);
    const data = review(author.id, { status: 'held', rating: 2, instructorIds: [owner.id] });
    await t.emit(ReviewCreatedEvent, data);
    const { createdAt: _c, instructorIds: _i, ...facts } = data;
    const updated = (over: Record<string, unknown>) => ({
      ...facts,
      change: 'moderated' as const,
      updatedAt: new Date().toISOString(),
      ...over,
    });
    // a hidden review approved after readers saw it (community names no team then), an edit, a
    // hide: none lets a held review out
    await t.emit(ReviewUpdatedEvent, updated({ previousStatus: 'hidden', status: 'visible' }));
    await t.emit(
      ReviewUpdatedEvent,
      updated({ change: 'edited', status: 'visible', instructorIds: [owner.id] }),
    );
    await t.emit(
      ReviewUpdatedEvent,
      updated({ previousStatus: 'held', status: 'hidden', instructorIds: [owner.id] }),
    );
    expect(await kindsOf(owner)).toEqual([]);

    const approval = updated({ previousStatus: 'held', status: 'visible', instructorIds: [owner.id] });
    const event = await t.emit(ReviewUpdatedEvent, approval);
    await t.emit(ReviewUpdatedEvent, approval, { id: event.id });
    await t.emit(ReviewUpdatedEvent, approval);
    expect(await inboxOf(owner)).toEqual([
      expect.objectContaining({ kind: 'course_reviewed', data: expect.objectContaining({ rating: 2 }) }),
    ]);

    // hidden before anyone saw it, then approved: community names the team, and it is told once
    const neverShown = review(author.id, { status: 'held', rating: 3, instructorIds: [other.id] });
    await t.emit(ReviewCreatedEvent, neverShown);
    const { createdAt: _n, instructorIds: _t, ...neverShownFacts } = neverShown;
    const fromHidden = {
      ...neverShownFacts,
      change: 'moderated' as const,
      updatedAt: new Date().toISOString(),
      previousStatus: 'hidden' as const,
      status: 'visible' as const,
      instructorIds: [other.id],
    };
    await t.emit(ReviewUpdatedEvent, fromHidden);
    await t.emit(ReviewUpdatedEvent, fromHidden);
    expect(await inboxOf(other)).toEqual([
      expect.objectContaining({ kind: 'course_reviewed', data: expect.objectContaining({ rating: 3 }) }),
    ]);
  });

  it('every kind renders in every locale; the community kinds read as written', () => {
    for (const kind of KIND_NAMES) {
      for (const locale of LOCALES) {
        const rendered = render(kind, SAMPLE_PAYLOADS[kind], locale);
        expect(rendered.subject, `${kind} ${locale}`).not.toBe('');
        expect(rendered.text, `${kind} ${locale}`).not.toContain('{{');
      }
    }
    const texts = (
      kind: 'comment_replied' | 'comment_mentioned' | 'lesson_question' | 'course_reviewed',
      payload: Record<string, unknown> = SAMPLE_PAYLOADS[kind],
    ) => LOCALES.map((locale) => render(kind, payload, locale).text);
    // the samples carry titles, as community's events do now
    expect(texts('comment_replied')).toEqual([
      'Someone replied to your comment on a lesson:\n\n“Check <the> second step & retry.”\n\nLesson: 3. Window functions & frames — PostgreSQL <in> practice',
      '有人回复了您在课时下的评论：\n\n“Check <the> second step & retry.”\n\n课时：3. Window functions & frames（《PostgreSQL <in> practice》）',
    ]);
    expect(texts('comment_mentioned')).toEqual([
      'Someone mentioned you in the discussion of a lesson.\n\nLesson: 3. Window functions & frames — PostgreSQL <in> practice',
      '有人在课时讨论中提到了您。\n\n课时：3. Window functions & frames（《PostgreSQL <in> practice》）',
    ]);
    expect(texts('lesson_question')).toEqual([
      'A learner asked a question in the discussion of a lesson of your course.\n\nLesson: 3. Window functions & frames — PostgreSQL <in> practice',
      '有学员在您课程的课时讨论中提出了问题。\n\n课时：3. Window functions & frames（《PostgreSQL <in> practice》）',
    ]);
    expect(texts('course_reviewed')).toEqual([
      'A learner reviewed your course and rated it 4 out of 5.\n\nCourse: PostgreSQL <in> practice',
      '有学员评价了您的课程，评分 4 星（满分 5 星）。\n\n课程：《PostgreSQL <in> practice》',
    ]);
    expect(render('course_reviewed', SAMPLE_PAYLOADS.course_reviewed, 'zh-CN').subject).toBe(
      '您的课程《PostgreSQL <in> practice》收到一条 4 星评价',
    );
  });

  it('a notice of an event without titles (written before community sent them) reads as before, with ids', () => {
    const texts = (kind: 'comment_replied' | 'comment_mentioned' | 'lesson_question' | 'course_reviewed') => {
      const { courseTitle: _c, lessonTitle: _l, ...old } = SAMPLE_PAYLOADS[kind];
      return LOCALES.map((locale) => {
        const r = render(kind, old, locale);
        return [r.subject, r.text];
      });
    };
    expect(texts('comment_replied')).toEqual([
      [
        'New reply to your comment',
        'Someone replied to your comment on a lesson:\n\n“Check <the> second step & retry.”\n\nLesson: l1',
      ],
      [
        '您的评论有了新回复',
        '有人回复了您在课时下的评论：\n\n“Check <the> second step & retry.”\n\n课时：l1',
      ],
    ]);
    expect(texts('comment_mentioned')).toEqual([
      [
        'You were mentioned in a comment',
        'Someone mentioned you in the discussion of a lesson.\n\nLesson: l1',
      ],
      ['有人在评论中提到了您', '有人在课时讨论中提到了您。\n\n课时：l1'],
    ]);
    expect(texts('lesson_question')).toEqual([
      [
        'New question on your lesson',
        'A learner asked a question in the discussion of a lesson of your course.\n\nLesson: l1',
      ],
      ['您的课时有新提问', '有学员在您课程的课时讨论中提出了问题。\n\n课时：l1'],
    ]);
    expect(texts('course_reviewed')).toEqual([
      [
        'New 4-star review of your course',
        'A learner reviewed your course and rated it 4 out of 5.\n\nCourse: c1',
      ],
      ['您的课程收到一条 4 星评价', '有学员评价了您的课程，评分 4 星（满分 5 星）。\n\n课程：c1'],
    ]);
    // a lesson's title without its course's (no event sends that) is not half a line
    expect(render('lesson_question', { lessonId: 'l1', lessonTitle: 'Intro' }, 'en').text).toContain(
      'Lesson: l1',
    );
  });

  it('titles in the HTML part are escaped; the text part and the subject show them as written', () => {
    for (const locale of LOCALES) {
      const r = render(
        'lesson_question',
        {
          lessonId: 'l1',
          courseId: 'c1',
          courseTitle: 'SQL <b>&</b> you',
          lessonTitle: '<b>Joins</b> & more',
        },
        locale,
      );
      expect(r.html).toContain('&lt;b&gt;Joins&lt;/b&gt; &amp; more');
      expect(r.html).toContain('SQL &lt;b&gt;&amp;&lt;/b&gt; you');
      expect(r.html).not.toContain('<b>');
      expect(r.text).toContain('<b>Joins</b> & more');
      expect(r.text).toContain('SQL <b>&</b> you');
      expect(r.subject).toContain('<b>Joins</b> & more');
    }
  });

  it('a titled comment or review names its lesson and course in the inbox and the mail, in en and zh-CN', async () => {
    const [author, named, owner, zhOwner] = await Promise.all([learner(), learner(), learner(), learner()]);
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
      as: zhOwner,
      body: { locale: 'zh-CN' },
    });
    const titles = { courseTitle: 'PostgreSQL in practice', lessonTitle: '3. Window functions' };
    const data = comment(author.id, {
      mentionedUserIds: [named.id],
      instructorIds: [owner.id, zhOwner.id],
      ...titles,
    });
    await t.emit(CommentCreatedEvent, data);
    const [mention] = await inboxOf(named);
    expect(mention).toMatchObject({
      kind: 'comment_mentioned',
      title: 'You were mentioned in a comment on “3. Window functions”',
      data: { lessonId: data.lessonId, ...titles },
    });
    expect(render('comment_mentioned', mention?.data ?? {}, 'en').text).toContain(
      'Lesson: 3. Window functions — PostgreSQL in practice',
    );
    const [question] = await inboxOf(owner);
    expect(question?.title).toBe('New question on “3. Window functions”');
    const [zhQuestion] = await inboxOf(zhOwner);
    expect(zhQuestion?.title).toBe('您的课时“3. Window functions”有新提问');
    expect(render('lesson_question', zhQuestion?.data ?? {}, 'zh-CN').text).toContain(
      '课时：3. Window functions（《PostgreSQL in practice》）',
    );

    const approved = {
      ...comment(author.id, { mentionedUserIds: [named.id], ...titles }),
      parentAuthorId: null,
      approvedAt: new Date().toISOString(),
    };
    const { createdAt: _c, status: _s, ...approvedData } = approved;
    await t.emit(CommentApprovedEvent, approvedData);
    const about = async (who: Caller, key: 'commentId' | 'reviewId', id: string) =>
      (await inboxOf(who)).find((n) => n.data[key] === id);
    expect((await about(named, 'commentId', approved.commentId))?.data).toMatchObject(titles);

    const visible = review(author.id, {
      rating: 5,
      instructorIds: [owner.id, zhOwner.id],
      courseTitle: titles.courseTitle,
    });
    await t.emit(ReviewCreatedEvent, visible);
    const reviewed = await about(owner, 'reviewId', visible.reviewId);
    expect(reviewed).toMatchObject({
      kind: 'course_reviewed',
      title: 'New 5-star review of “PostgreSQL in practice”',
      data: { courseTitle: titles.courseTitle },
    });
    expect(reviewed?.data).not.toHaveProperty('lessonTitle');
    expect((await about(zhOwner, 'reviewId', visible.reviewId))?.title).toBe(
      '您的课程《PostgreSQL in practice》收到一条 5 星评价',
    );

    // a held review let out names the course as well
    const held = review(author.id, { status: 'held', rating: 3, instructorIds: [owner.id] });
    await t.emit(ReviewCreatedEvent, held);
    const { createdAt: _h, instructorIds: _i, ...facts } = held;
    await t.emit(ReviewUpdatedEvent, {
      ...facts,
      status: 'visible',
      change: 'moderated',
      previousStatus: 'held',
      updatedAt: new Date().toISOString(),
      instructorIds: [owner.id],
      courseTitle: titles.courseTitle,
    });
    expect(await about(owner, 'reviewId', held.reviewId)).toMatchObject({
      title: 'New 3-star review of “PostgreSQL in practice”',
      data: { reviewId: held.reviewId, courseTitle: titles.courseTitle },
    });
  });

  it('a person who chose zh-CN reads the notice in zh-CN', async () => {
    const [author, owner] = await Promise.all([learner(), learner()]);
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
      as: owner,
      body: { locale: 'zh-CN' },
    });
    await t.emit(ReviewCreatedEvent, review(author.id, { rating: 3, instructorIds: [owner.id] }));
    expect((await inboxOf(owner)).map((n) => n.title)).toEqual(['您的课程收到一条 3 星评价']);
  });
});

describe('the notify.community consumer', () => {
  it('starts at new events when first seen: what the stream retained from before is not announced', async () => {
    const natsUrl = process.env.NATS_URL;
    const isolated = isolatedStream();
    const inner: EventBus = natsUrl
      ? await createJetStreamBus({ url: natsUrl, logger: createLogger('silent'), ...isolated })
      : createInProcessBus();
    const subscribed: BusSubscription[] = [];
    const bus: EventBus = {
      kind: inner.kind,
      publish: (event) => inner.publish(event),
      subscribe: (subscription) => {
        subscribed.push(subscription);
        return inner.subscribe(subscription);
      },
      ping: () => inner.ping(),
      close: () => inner.close(),
      describe: () => inner.describe(),
    };
    const [author, named] = [randomUUID(), randomUUID()];
    const envelope = (data: CommentCreated): EventEnvelope => ({
      id: randomUUID(),
      type: CommentCreatedEvent.type,
      version: CommentCreatedEvent.version,
      occurredAt: new Date().toISOString(),
      aggregateId: data.commentId,
      data,
    });
    // on the bus before notify.community ever ran (JetStream keeps it in the stream)
    const old = comment(author, { mentionedUserIds: [named] });
    await bus.publish(envelope(old));
    const fresh = await startNotify({}, { platform: { bus } });
    try {
      expect(subscribed.find((s) => s.consumer === 'notify.community')?.deliverFrom).toBe('new');
      const now = comment(author, { mentionedUserIds: [named] });
      // a consumer receives in stream order: once the later event is applied, the earlier one was
      // either applied before it or never delivered
      await fresh.emit(CommentCreatedEvent, now);
      const notices = await fresh.rows<{ payload: { commentId: string } }>(
        'notifications',
        `recipient_id = '${named}'`,
      );
      expect(notices.map((n) => n.payload.commentId)).toEqual([now.commentId]);
    } finally {
      await fresh.stop();
      if (natsUrl) {
        const { connect } = await import('@nats-io/transport-node');
        const { jetstreamManager } = await import('@nats-io/jetstream');
        const nc = await connect({ servers: natsUrl });
        try {
          await (await jetstreamManager(nc)).streams.delete(isolated.stream).catch(() => false);
        } finally {
          await nc.close();
        }
      }
    }
  });
});
