import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPartOf, identityOutbox, keysOf, readSections } from '../../../test/helpers/personal-data.js';
import { createTestClock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { OrderPaidEvent } from '../commerce/index.js';
import { CommentRepliedEvent } from '../community/index.js';
import { NewDeviceSignInEvent, UserRegisteredEvent } from '../identity/index.js';
import { EntitlementGrantedEvent } from '../learning/index.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';
import { notifyPersonalData } from './personal-data.queries.js';
import type { NotifyTables } from './tables.js';

const clock = createTestClock(new Date('2026-03-01T08:00:00.000Z'));
const at = (minute: number) =>
  new Date(Date.parse('2026-03-01T08:00:00.000Z') + minute * 60_000).toISOString();

let t: NotifyTest;

interface Person {
  id: string;
  token: string;
  email: string;
  name: string;
  orderId: string;
  courseIds: string[];
  /** Text another person wrote to them (a reply to their comment). */
  replyExcerpt: string;
  sessionId: string;
  phone: string;
}

let a: Person;
let b: Person;

const paid = (userId: string, orderId: string, courseId: string) => ({
  orderId,
  userId,
  lines: [{ courseId, title: 'TypeScript in Depth', amount: 19_900, instructorIds: [] }],
  total: 19_900,
  currency: 'CNY',
  provider: 'sandbox' as const,
  paidAt: '2026-03-01T08:01:00.000Z',
});

async function person(name: string, phone: string): Promise<Person> {
  const user = await t.caller('learner');
  const email = `${name.split(' ')[0]?.toLowerCase() ?? 'x'}-${user.id}@example.test`;
  await t.emit(UserRegisteredEvent, { userId: user.id, email, displayName: name });
  return {
    id: user.id,
    token: user.token,
    email,
    name,
    orderId: randomUUID(),
    courseIds: [randomUUID(), randomUUID()].sort(),
    replyExcerpt: `a reply to ${name}: ${randomUUID()}`,
    sessionId: randomUUID(),
    phone,
  };
}

const inboxOf = (p: Person) =>
  t.expectStatus<{ data: { id: string; kind: string }[] }>(200, 'GET', '/api/v1/me/notifications?limit=50', {
    as: p,
  });

beforeAll(async () => {
  // jobs are run by hand, so every delivery is in the state the test gave it
  t = await startNotify({ clock }, { jobs: false }, [identityOutbox()]);

  // minute 0: both register and set their preferences
  a = await person('Ada Lovelace', '+8613812345678');
  b = await person('Bartholomew Other', '+8613900000099');
  await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
    as: a,
    body: {
      locale: 'zh-CN',
      phone: a.phone,
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' },
      kinds: [
        { kind: 'order_receipt', channels: { sms: true } },
        { kind: 'course_updated', channels: { email: true } },
      ],
    },
  });
  await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
    as: b,
    body: { phone: b.phone, kinds: [{ kind: 'order_receipt', channels: { sms: true } }] },
  });

  // minute 1: each buys a course
  clock.advance(60);
  for (const p of [a, b]) await t.emit(OrderPaidEvent, paid(p.id, p.orderId, p.courseIds[0] ?? ''));

  // minute 2: each gets a reply to a comment, written by the other
  clock.advance(60);
  for (const [to, from] of [
    [a, b],
    [b, a],
  ] as const) {
    await t.emit(CommentRepliedEvent, {
      commentId: randomUUID(),
      parentId: randomUUID(),
      parentAuthorId: to.id,
      lessonId: randomUUID(),
      courseId: to.courseIds[0] ?? '',
      authorId: from.id,
      byInstructor: false,
      excerpt: to.replyExcerpt,
      repliedAt: at(2),
      courseTitle: 'TypeScript in Depth',
      lessonTitle: 'Generics',
    });
  }

  // minute 3: a sign-in from a new device
  clock.advance(60);
  for (const p of [a, b]) {
    await t.emit(NewDeviceSignInEvent, {
      userId: p.id,
      sessionId: p.sessionId,
      userAgent: `Firefox/${p.name}`,
      ip: p === a ? '203.0.113.7' : '198.51.100.9',
      at: at(3),
    });
  }
  for (const p of [a, b]) {
    for (const courseId of p.courseIds) {
      await t.emit(EntitlementGrantedEvent, {
        userId: p.id,
        courseId,
        source: 'order',
        sourceId: p.orderId,
        grantedAt: at(3),
      });
    }
  }

  // minute 4: each reads the reply; the welcome and the receipt go out, the sign-in notice waits
  clock.advance(60);
  for (const p of [a, b]) {
    const reply = (await inboxOf(p)).data.find((n) => n.kind === 'comment_replied');
    await t.expectStatus(200, 'POST', `/api/v1/me/notifications/${reply?.id ?? ''}/read`, { as: p });
    const deliveries = await t.rows<{ id: string }>(
      'deliveries',
      `recipient_id = '${p.id}' and notification_id in
        (select id from notify.notifications where kind in ('welcome', 'order_receipt'))`,
    );
    for (const d of deliveries) await t.runJob('notify.deliver', { deliveryId: d.id });
  }
}, 120_000);

afterAll(async () => {
  await t.stop();
});

interface NotifyPart {
  recipient: Record<string, unknown> | null;
  preferences: Record<string, unknown>[];
  notifications: { id: string; kind: string; createdAt: string; readAt: string | null; data: unknown }[];
  deliveries: {
    id: string;
    notificationId: string;
    template: string;
    channel: string;
    status: string;
    attempts: number;
    createdAt: string;
    updatedAt: string;
    sentAt: string | null;
    history: { status: string; at: string }[];
  }[];
  entitlements: { courseId: string }[];
}

const partOf = async (userId: string) => {
  const part = await exportPartOf(t, userId, 'notify');
  return { part, data: part.data as unknown as NotifyPart, text: JSON.stringify(part) };
};

/** Every key of a JSON value, at any depth. */
describe('notify’s part of a personal-data export', () => {
  it('holds the person’s recipient copy, switches, inbox, deliveries and entitlement copy with their values', async () => {
    const { part, data } = await partOf(a.id);
    expect(part.module).toBe('notify');
    expect(part.generatedAt).toBe(clock().toISOString());

    expect(data.recipient).toEqual({
      email: a.email,
      displayName: 'Ada Lovelace',
      locale: 'zh-CN',
      // the number as notify's logs show it, never in full
      phone: '+861****78',
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' },
      roles: [],
      updatedAt: at(0),
    });
    expect(data.preferences).toEqual([
      { kind: 'course_updated', channel: 'email', enabled: true },
      { kind: 'order_receipt', channel: 'sms', enabled: true },
    ]);

    const inbox = new Map((await inboxOf(a)).data.map((n) => [n.kind, n.id]));
    expect(data.notifications).toEqual([
      {
        id: inbox.get('welcome'),
        kind: 'welcome',
        createdAt: at(0),
        readAt: null,
        data: { displayName: 'Ada Lovelace' },
      },
      {
        id: inbox.get('order_receipt'),
        kind: 'order_receipt',
        createdAt: at(1),
        readAt: null,
        data: {
          orderId: a.orderId,
          total: 19_900,
          currency: 'CNY',
          paidAt: '2026-03-01T08:01:00.000Z',
          lines: [{ courseId: a.courseIds[0], title: 'TypeScript in Depth', amount: 19_900 }],
        },
      },
      {
        id: inbox.get('comment_replied'),
        kind: 'comment_replied',
        createdAt: at(2),
        readAt: at(4),
        // ids and the catalog's public titles only: the excerpt is the replier's text
        data: {
          commentId: expect.any(String) as string,
          parentId: expect.any(String) as string,
          lessonId: expect.any(String) as string,
          courseTitle: 'TypeScript in Depth',
          lessonTitle: 'Generics',
        },
      },
      {
        id: inbox.get('new_device_sign_in'),
        kind: 'new_device_sign_in',
        createdAt: at(3),
        readAt: null,
        data: { userAgent: 'Firefox/Ada Lovelace', ip: '203.0.113.7', at: at(3) },
      },
    ]);

    const sent = (created: number) => ({
      status: 'sent',
      attempts: 1,
      createdAt: at(created),
      updatedAt: at(4),
      sentAt: at(4),
      history: [
        { status: 'queued', at: at(created) },
        { status: 'sent', at: at(4) },
      ],
    });
    expect(data.deliveries.map(({ id: _id, ...rest }) => rest)).toEqual([
      { notificationId: inbox.get('welcome'), template: 'welcome', channel: 'email', ...sent(0) },
      { notificationId: inbox.get('order_receipt'), template: 'order_receipt', channel: 'email', ...sent(1) },
      { notificationId: inbox.get('order_receipt'), template: 'order_receipt', channel: 'sms', ...sent(1) },
      {
        notificationId: inbox.get('new_device_sign_in'),
        template: 'new_device_sign_in',
        channel: 'email',
        status: 'queued',
        attempts: 0,
        createdAt: at(3),
        updatedAt: at(3),
        sentAt: null,
        history: [{ status: 'queued', at: at(3) }],
      },
    ]);
    const deliveryIds = await t.rows<{ id: string }>('deliveries', `recipient_id = '${a.id}'`);
    expect(data.deliveries.map((d) => d.id).sort()).toEqual(deliveryIds.map((d) => d.id).sort());

    expect(data.entitlements).toEqual(a.courseIds.map((courseId) => ({ courseId })));
  });

  it('holds nothing of another person, and no secret or internal key', async () => {
    const { data, text } = await partOf(a.id);
    const ofB = [
      b.id,
      b.email,
      b.name,
      b.orderId,
      ...b.courseIds,
      b.phone,
      b.sessionId,
      b.replyExcerpt,
      ...(await t.rows<{ id: string }>('notifications', `recipient_id = '${b.id}'`)).map((n) => n.id),
      ...(await t.rows<{ id: string }>('deliveries', `recipient_id = '${b.id}'`)).map((d) => d.id),
    ];
    expect(ofB.length).toBeGreaterThan(10);
    for (const value of ofB) expect(text).not.toContain(value);
    // the reply B wrote to A is B's text; A's full phone and the session's id (a dedupe key) stay home
    expect(text).not.toContain(a.replyExcerpt);
    expect(text).not.toContain(a.phone);
    expect(text).not.toContain(a.sessionId);
    expect(data.notifications.length).toBeGreaterThan(0);

    const forbidden =
      /password|token|secret|hash|credential|signing|seal|cipher|dedupe|source_?event|error|reason/i;
    expect(keysOf(data).filter((k) => forbidden.test(k))).toEqual([]);
  });

  it('reads the long sections page by page without losing or repeating a row', async () => {
    const { data } = await partOf(a.id);
    const db = t.app.platform.database.db.withTables<NotifyTables>();
    for (const pageSize of [1, 3]) {
      const paged = await inTransaction(db, async (trx) =>
        readSections(await notifyPersonalData(trx, a.id, pageSize)),
      );
      expect(paged).toEqual(data);
    }
  });

  it('gives a person notify knows nothing of a part with empty sections', async () => {
    const stranger = await t.caller('learner');
    const { part } = await partOf(stranger.id);
    expect(part.module).toBe('notify');
    expect(part.data).toEqual({
      recipient: null,
      preferences: [],
      notifications: [],
      deliveries: [],
      entitlements: [],
    });
  });
});
