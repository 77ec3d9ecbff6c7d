import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoursePublishedEvent, CourseRejectedEvent } from '../catalog/index.js';
import { OrderRefundedEvent } from '../commerce/index.js';
import { CommentRepliedEvent } from '../community/index.js';
import {
  EmailChangedEvent,
  InstructorApprovedEvent,
  InstructorRejectedEvent,
  NewDeviceSignInEvent,
  PasswordResetRequestedEvent,
  UserClosedEvent,
  UserRegisteredEvent,
} from '../identity/index.js';
import { subscriptionFor } from '../../platform/messaging/inbox.js';
import type { ModuleSubscriber } from '../../platform/module.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';
import { render } from './templates.js';

const never = (): ModuleSubscriber => {
  throw new Error('notify has no comment-replies subscriber');
};

let t: NotifyTest;
beforeAll(async () => {
  t = await startNotify();
});
afterAll(async () => {
  await t.stop();
});

describe('triggers', () => {
  it('course published goes to the owner and every instructor once; rejected to the owner with the reason', async () => {
    const [owner, co] = [await t.caller('instructor'), await t.caller('instructor')];
    const courseId = randomUUID();
    await t.emit(CoursePublishedEvent, {
      courseId,
      ownerId: owner.id,
      instructorIds: [owner.id, co.id],
      title: 'Rust for <TS> people',
      priceAmount: 9900,
      currency: 'CNY',
      publishedAt: new Date().toISOString(),
    });
    await t.emit(CourseRejectedEvent, {
      courseId,
      ownerId: owner.id,
      title: 'Another',
      reason: 'Audio too quiet',
    });
    const mine = await t.inbox(owner.token);
    expect(mine.data.map((n) => n.kind)).toEqual(['course_rejected', 'course_published']);
    expect(mine.data[0]?.data).toMatchObject({ reason: 'Audio too quiet' });
    expect((await t.inbox(co.token)).data.map((n) => n.title)).toEqual([
      'Your course “Rust for <TS> people” is published',
    ]);
  });

  it('a rejected applicant is told once, with the reviewer’s note', async () => {
    const me = await t.caller('learner');
    const data = {
      userId: me.id,
      applicationId: randomUUID(),
      rejectedBy: randomUUID(),
      note: 'More <b>detail</b>',
    };
    const event = await t.emit(InstructorRejectedEvent, data);
    // delivered again (same event id), and a second event about the same application
    await t.emit(InstructorRejectedEvent, data, { id: event.id });
    await t.emit(InstructorRejectedEvent, data);
    const inbox = await t.inbox(me.token);
    expect(inbox.data.map((n) => n.kind)).toEqual(['instructor_rejected']);
    expect(inbox.data[0]).toMatchObject({
      title: 'Your instructor application was not approved',
      data: { note: 'More <b>detail</b>' },
    });
  });

  it('instructor approval, refunds and password-reset notices (which never carry the link)', async () => {
    const me = await t.caller('learner');
    const applicationId = randomUUID();
    await t.emit(InstructorApprovedEvent, {
      userId: me.id,
      applicationId,
      approvedBy: randomUUID(),
      displayName: 'Ada',
    });
    // a second approval event for the same application is the same notification
    await t.emit(InstructorApprovedEvent, {
      userId: me.id,
      applicationId,
      approvedBy: randomUUID(),
      displayName: 'Ada',
    });
    await t.emit(OrderRefundedEvent, {
      orderId: 'ord-1',
      userId: me.id,
      refundId: randomUUID(),
      amount: 4_950,
      currency: 'CNY',
      revokedCourseIds: [],
      orderStatus: 'partially_refunded',
      refundedAt: new Date().toISOString(),
    });
    await t.emit(PasswordResetRequestedEvent, {
      userId: me.id,
      email: 'x@example.test',
      expiresAt: '2026-03-01T09:00:00.000Z',
    });
    const inbox = await t.inbox(me.token);
    expect(inbox.data.map((n) => n.kind)).toEqual([
      'password_reset_requested',
      'refund_processed',
      'instructor_approved',
    ]);
    expect(inbox.data[1]?.title).toBe('Refund of CN¥49.50 for order ord-1');
    expect(Object.keys(inbox.data[0]?.data ?? {})).toEqual(['expiresAt']);
  });

  it('quiet hours hold a non-urgent email until the window ends; the inbox item is there at once', async () => {
    const me = await t.caller('learner');
    await t.emit(UserRegisteredEvent, {
      userId: me.id,
      email: `${me.id}@example.test`,
      displayName: 'Night owl',
    });
    const now = new Date();
    const hhmm = (d: Date) =>
      `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    const start = new Date(now.getTime() - 30 * 60_000);
    const end = new Date(now.getTime() + 2 * 3600_000);
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
      as: me,
      body: { quietHours: { start: hhmm(start), end: hhmm(end), timeZone: 'UTC' } },
    });
    await t.emit(InstructorApprovedEvent, {
      userId: me.id,
      applicationId: randomUUID(),
      approvedBy: randomUUID(),
      displayName: 'Owl',
    });
    expect((await t.inbox(me.token)).data.map((n) => n.kind)).toContain('instructor_approved');
    const [delivery] = await t.rows<{ id: string; status: string }>(
      'deliveries',
      `recipient_id = '${me.id}' and notification_id in (select id from notify.notifications where kind = 'instructor_approved')`,
    );
    expect(delivery?.status).toBe('queued');
    const jobs = await t.app.platform.database.db
      .withTables<{ 'pgboss.job': { start_after: Date; data: { deliveryId: string }; name: string } }>()
      .selectFrom('pgboss.job')
      .select(['start_after'])
      .where('name', '=', 'notify.deliver')
      .where((eb) => eb(eb.ref('data', '->>').key('deliveryId'), '=', delivery?.id ?? ''))
      .execute();
    expect(jobs).toHaveLength(1);
    expect(new Date(jobs[0]?.start_after ?? 0).getTime()).toBeGreaterThan(now.getTime() + 3600_000);
  });

  it('a sign-in from a new device is a security notice: once per session, by email even in quiet hours', async () => {
    const me = await t.caller('learner');
    const now = new Date();
    const hhmm = (d: Date) =>
      `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
      as: me,
      body: {
        quietHours: {
          start: hhmm(new Date(now.getTime() - 30 * 60_000)),
          end: hhmm(new Date(now.getTime() + 2 * 3600_000)),
          timeZone: 'UTC',
        },
      },
    });
    const data = {
      userId: me.id,
      sessionId: randomUUID(),
      userAgent: 'Mozilla/5.0 <b>Phone</b>',
      ip: '203.0.113.7',
      at: now.toISOString(),
    };
    const event = await t.emit(NewDeviceSignInEvent, data);
    await t.emit(NewDeviceSignInEvent, data, { id: event.id });
    const inbox = await t.inbox(me.token);
    expect(inbox.data.map((n) => n.kind)).toEqual(['new_device_sign_in']);
    expect(inbox.data[0]).toMatchObject({
      title: 'New sign-in to your account',
      data: { userAgent: 'Mozilla/5.0 <b>Phone</b>', ip: '203.0.113.7', at: data.at },
    });
    const deliveries = await t.rows<{ id: string; channel: string }>(
      'deliveries',
      `recipient_id = '${me.id}' and notification_id in (select id from notify.notifications where kind = 'new_device_sign_in')`,
    );
    expect(deliveries.map((d) => d.channel)).toEqual(['email']);
    const jobs = await t.app.platform.database.db
      .withTables<{ 'pgboss.job': { start_after: Date; data: { deliveryId: string }; name: string } }>()
      .selectFrom('pgboss.job')
      .select(['start_after'])
      .where('name', '=', 'notify.deliver')
      .where((eb) => eb(eb.ref('data', '->>').key('deliveryId'), '=', deliveries[0]?.id ?? ''))
      .execute();
    // urgent: not held until the quiet hours end
    expect(jobs).toHaveLength(1);
    expect(new Date(jobs[0]?.start_after ?? 0).getTime()).toBeLessThan(now.getTime() + 60_000);
  });

  it('refuses a bad time zone and a channel a kind does not have', async () => {
    const me = await t.caller('learner');
    const zone = await t.request('PUT', '/api/v1/me/notification-preferences', {
      as: me,
      body: { quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Olympus' } },
    });
    expect(zone.statusCode).toBe(400);
    expect(zone.json()).toMatchObject({ code: 'notify.bad-time-zone' });
    const channel = await t.request('PUT', '/api/v1/me/notification-preferences', {
      as: me,
      body: { kinds: [{ kind: 'welcome', channels: { sms: true } }] },
    });
    expect(channel.statusCode).toBe(400);
    expect(channel.json()).toMatchObject({ code: 'notify.channel-not-offered' });
  });

  it('a reply to your comment reaches the comment’s author once, in the inbox only by default', async () => {
    const author = await t.caller('learner');
    const replier = await t.caller('learner');
    const data = {
      commentId: randomUUID(),
      parentId: randomUUID(),
      parentAuthorId: author.id,
      lessonId: randomUUID(),
      courseId: randomUUID(),
      authorId: replier.id,
      byInstructor: false,
      excerpt: 'Try <b>step two</b>',
      repliedAt: new Date().toISOString(),
    };
    const event = await t.emit(CommentRepliedEvent, data);
    await t.emit(CommentRepliedEvent, data, { id: event.id });
    const inbox = await t.inbox(author.token);
    expect(inbox.data.map((n) => n.kind)).toEqual(['comment_replied']);
    expect(inbox.data[0]?.data).toMatchObject({ excerpt: 'Try <b>step two</b>', lessonId: data.lessonId });
    expect((await t.inbox(replier.token)).data).toHaveLength(0);
  });

  it('a reply to your comment names the lesson and course by title when the event has them, escaped in the mail’s HTML', async () => {
    const author = await t.caller('learner');
    const titles = { courseTitle: 'PostgreSQL <in> practice', lessonTitle: '3. Window functions & frames' };
    await t.emit(CommentRepliedEvent, {
      commentId: randomUUID(),
      parentId: randomUUID(),
      parentAuthorId: author.id,
      lessonId: randomUUID(),
      courseId: randomUUID(),
      authorId: randomUUID(),
      byInstructor: false,
      excerpt: 'Use a frame clause',
      repliedAt: new Date().toISOString(),
      ...titles,
    });
    const [notice] = (await t.inbox(author.token)).data;
    expect(notice?.data).toMatchObject(titles);
    expect(notice?.title).toBe('New reply to your comment on “3. Window functions & frames”');
    const en = render('comment_replied', notice?.data ?? {}, 'en');
    expect(en.text).toContain('Lesson: 3. Window functions & frames — PostgreSQL <in> practice');
    expect(en.html).toContain('Lesson: 3. Window functions &amp; frames — PostgreSQL &lt;in&gt; practice');
    const zh = render('comment_replied', notice?.data ?? {}, 'zh-CN');
    expect(zh.subject).toBe('您在课时“3. Window functions & frames”下的评论有了新回复');
    expect(zh.text).toContain('课时：3. Window functions & frames（《PostgreSQL <in> practice》）');
    expect(zh.html).toContain('课时：3. Window functions &amp; frames（《PostgreSQL &lt;in&gt; practice》）');
  });

  it('a reply to your comment from an event without titles still names the lesson by id', async () => {
    const author = await t.caller('learner');
    const lessonId = randomUUID();
    await t.emit(CommentRepliedEvent, {
      commentId: randomUUID(),
      parentId: randomUUID(),
      parentAuthorId: author.id,
      lessonId,
      courseId: randomUUID(),
      authorId: randomUUID(),
      byInstructor: false,
      excerpt: 'Old reply',
      repliedAt: new Date().toISOString(),
    });
    const [notice] = (await t.inbox(author.token)).data;
    expect(notice?.title).toBe('New reply to your comment');
    expect(render('comment_replied', notice?.data ?? {}, 'en').text).toContain(`Lesson: ${lessonId}`);
    expect(render('comment_replied', notice?.data ?? {}, 'zh-CN').text).toContain(`课时：${lessonId}`);
  });

  it('applies the events waiting on the bus together: one inbox item per reply, a repeat in the batch or after it changes nothing', async () => {
    const [a, b] = [await t.caller('learner'), await t.caller('learner')];
    const reply = (parentAuthorId: string) => ({
      id: randomUUID(),
      type: CommentRepliedEvent.type,
      version: CommentRepliedEvent.version,
      occurredAt: new Date().toISOString(),
      aggregateId: randomUUID(),
      data: {
        commentId: randomUUID(),
        parentId: randomUUID(),
        parentAuthorId,
        lessonId: randomUUID(),
        courseId: randomUUID(),
        authorId: randomUUID(),
        byInstructor: false,
        excerpt: `to ${parentAuthorId}`,
        repliedAt: new Date().toISOString(),
      },
    });
    const [toA, toB, alsoToA] = [reply(a.id), reply(b.id), reply(a.id)];
    const subscriber = (t.notify.subscribers ?? []).find((s) => s.consumer === 'notify.comment-replies');
    expect(typeof subscriber?.handleBatch).toBe('function');
    const subscription = subscriptionFor(t.app.platform.database.db, 'notify', subscriber ?? never());
    await subscription.handleBatch?.([toA, toB, toA, alsoToA]);
    await subscription.handleBatch?.([toB, alsoToA]);
    await subscription.handle(toA);
    expect((await t.inbox(a.token)).data.map((n) => n.data.excerpt)).toEqual([`to ${a.id}`, `to ${a.id}`]);
    expect((await t.inbox(b.token)).data.map((n) => n.data.excerpt)).toEqual([`to ${b.id}`]);
  });

  it("a closed account's copy, choices, inbox and deliveries are deleted, and other people's stay", async () => {
    const [me, other] = [await t.caller('learner'), await t.caller('learner')];
    for (const who of [me, other]) {
      await t.emit(UserRegisteredEvent, {
        userId: who.id,
        email: `${who.id}@example.test`,
        displayName: 'Someone',
      });
      await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
        as: who,
        body: { quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' } },
      });
      await t.emit(InstructorApprovedEvent, {
        userId: who.id,
        applicationId: randomUUID(),
        approvedBy: randomUUID(),
        displayName: 'Someone',
      });
    }
    const traces = async (id: string) => ({
      recipients: (await t.rows('recipients', `user_id = '${id}'`)).length,
      notifications: (await t.rows('notifications', `recipient_id = '${id}'`)).length,
      deliveries: (await t.rows('deliveries', `recipient_id = '${id}'`)).length,
    });
    const mine = await traces(me.id);
    const theirs = await traces(other.id);
    for (const n of Object.values(mine)) expect(n).toBeGreaterThan(0);

    await t.emit(UserClosedEvent, { userId: me.id, closedAt: new Date().toISOString() });
    expect(await traces(me.id)).toEqual({ recipients: 0, notifications: 0, deliveries: 0 });
    expect(await traces(other.id)).toEqual(theirs);
  });

  it('a changed address replaces the copy notify mails to', async () => {
    const me = await t.caller('learner');
    await t.emit(UserRegisteredEvent, { userId: me.id, email: `${me.id}@old.example`, displayName: 'Mover' });
    await t.emit(EmailChangedEvent, { userId: me.id, email: `${me.id}@new.example` });
    const [copy] = await t.rows<{ email: string; display_name: string }>(
      'recipients',
      `user_id = '${me.id}'`,
    );
    expect(copy).toMatchObject({ email: `${me.id}@new.example`, display_name: 'Mover' });
  });
});
