import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscriptionFor } from '../../platform/messaging/inbox.js';
import { waitFor } from '../../platform/messaging/test-support.js';
import { OrderPaidEvent } from '../commerce/index.js';
import { UserRegisteredEvent } from '../identity/index.js';
import { CertificateIssuedEvent } from '../learning/index.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';
import { startSmtp } from './smtp.test-support.js';

let t: NotifyTest;
let smtp: Awaited<ReturnType<typeof startSmtp>>;

beforeAll(async () => {
  smtp = await startSmtp();
  t = await startNotify(
    { settings: { NOTIFY_MAX_ATTEMPTS: 3, NOTIFY_RETRY_BASE_SECONDS: 1 } },
    { env: { SMTP_URL: smtp.url, JOBS_POLL_MS: '500' } },
  );
});
afterAll(async () => {
  await t.stop();
  await smtp.close();
});

interface DeliveryRow {
  id: string;
  status: string;
  attempts: number;
  channel: string;
}

async function register(email: string) {
  const user = await t.caller('learner');
  await t.emit(UserRegisteredEvent, { userId: user.id, email, displayName: 'Ada <Lovelace>' });
  return user;
}

/** Deliveries of one kind to one person (joined to the notification). */
const deliveriesOf = (userId: string, kind: string) =>
  t.rows<DeliveryRow>(
    'deliveries',
    `recipient_id = '${userId}' and notification_id in (select id from notify.notifications where kind = '${kind}')`,
  );

const settled = async (userId: string, kind: string, status: string) => {
  await waitFor(
    async () => {
      const rows = await deliveriesOf(userId, kind);
      return rows.length > 0 && rows.every((r) => r.status === status);
    },
    `${kind} deliveries to be ${status}`,
    30_000,
  );
};

const paid = (userId: string, orderId: string) => ({
  orderId,
  userId,
  lines: [{ courseId: randomUUID(), title: 'TypeScript & <Friends>', amount: 19_900, instructorIds: [] }],
  total: 19_900,
  currency: 'CNY',
  provider: 'sandbox' as const,
  paidAt: '2026-03-01T08:00:00.000Z',
});

describe('email', () => {
  it('mails the receipt for a paid order exactly once when the event comes three times, in the person’s locale', async () => {
    const email = `buyer-${randomUUID()}@example.test`;
    const buyer = await register(email);
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
      as: buyer,
      body: { locale: 'zh-CN' },
    });
    const orderId = randomUUID();
    const first = await t.emit(OrderPaidEvent, paid(buyer.id, orderId));
    await t.emit(OrderPaidEvent, paid(buyer.id, orderId), { id: first.id });
    await t.emit(OrderPaidEvent, paid(buyer.id, orderId), { id: first.id });
    // another event about the same order (a replayed payment callback) is the same receipt
    await t.emit(OrderPaidEvent, paid(buyer.id, orderId));

    await settled(buyer.id, 'order_receipt', 'sent');
    await settled(buyer.id, 'welcome', 'sent');
    const toBuyer = smtp.mails.filter((m) => m.to.includes(email));
    const receipts = toBuyer.filter((m) => m.subject.includes(orderId));
    expect(receipts).toHaveLength(1);
    expect(receipts[0]?.subject).toBe(`订单 ${orderId} 的付款收据`);
    expect(receipts[0]?.raw).toContain('multipart/alternative');
    expect(toBuyer).toHaveLength(2); // the welcome and the receipt
    expect(
      await t.rows('notifications', `recipient_id = '${buyer.id}' and kind = 'order_receipt'`),
    ).toHaveLength(1);
    const log = await t.rows<{ status: string }>(
      'delivery_log',
      `delivery_id in (select id from notify.deliveries where recipient_id = '${buyer.id}' and status = 'sent') order by delivery_id, seq`,
    );
    expect(log.map((l) => l.status)).toEqual(['queued', 'sent', 'queued', 'sent']);
  });

  it('receipts of paid orders applied together queue one job per delivery, and each is mailed once', async () => {
    const buyers = await Promise.all(
      [1, 2, 3].map(async () => {
        const email = `batch-${randomUUID()}@example.test`;
        return { email, user: await register(email) };
      }),
    );
    const events = buyers.map(({ user }) => {
      const created = OrderPaidEvent.create(randomUUID(), paid(user.id, randomUUID()));
      return {
        id: randomUUID(),
        type: created.type,
        version: OrderPaidEvent.version,
        occurredAt: new Date().toISOString(),
        aggregateId: created.aggregateId,
        data: created.data,
      };
    });
    const subscriber = (t.notify.subscribers ?? []).find((s) => s.consumer === 'notify.orders');
    if (!subscriber?.handleBatch) throw new Error('notify.orders takes no batches');
    await subscriptionFor(t.app.platform.database.db, 'notify', subscriber).handleBatch?.(events);

    for (const { user } of buyers) await settled(user.id, 'order_receipt', 'sent');
    const ids = buyers.map(({ user }) => `'${user.id}'`).join(',');
    const deliveries = await t.rows<{ id: string }>(
      'deliveries',
      `recipient_id in (${ids}) and notification_id in (select id from notify.notifications where kind = 'order_receipt')`,
    );
    expect(deliveries).toHaveLength(3);
    const jobs = await sql<{ delivery_id: string }>`
      select data->>'deliveryId' as delivery_id from pgboss.job
      where name = 'notify.deliver' and data->>'deliveryId' = any(${deliveries.map((d) => d.id)})`.execute(
      t.app.platform.database.db,
    );
    expect(jobs.rows.map((j) => j.delivery_id).sort()).toEqual(deliveries.map((d) => d.id).sort());
    for (const { email } of buyers) {
      expect(smtp.mails.filter((m) => m.to.includes(email) && m.subject.includes('receipt'))).toHaveLength(1);
    }
  });

  it('a preference turns a channel off; a transactional kind cannot be turned off', async () => {
    const email = `learner-${randomUUID()}@example.test`;
    const me = await register(email);
    await settled(me.id, 'welcome', 'sent');

    const refused = await t.request('PUT', '/api/v1/me/notification-preferences', {
      as: me,
      body: { locale: 'zh-CN', kinds: [{ kind: 'order_receipt', channels: { email: false } }] },
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'notify.transactional-kind' });
    const unchanged = await t.expectStatus<{
      locale: string | null;
      kinds: { kind: string; channels: { email?: boolean } }[];
    }>(200, 'GET', '/api/v1/me/notification-preferences', { as: me });
    expect(unchanged.locale).toBeNull();
    expect(unchanged.kinds.find((k) => k.kind === 'order_receipt')?.channels.email).toBe(true);

    const changed = await t.expectStatus<typeof unchanged>(
      200,
      'PUT',
      '/api/v1/me/notification-preferences',
      {
        as: me,
        body: { kinds: [{ kind: 'certificate_issued', channels: { email: false } }] },
      },
    );
    expect(changed.kinds.find((k) => k.kind === 'certificate_issued')?.channels.email).toBe(false);

    const certificate = {
      certificateId: randomUUID(),
      userId: me.id,
      courseId: randomUUID(),
      courseTitle: 'Off by choice',
      verificationId: 'V-1',
      issuedAt: new Date().toISOString(),
    };
    await t.emit(CertificateIssuedEvent, certificate);
    // in the inbox, but no email delivery was even queued
    expect(
      await t.rows('notifications', `recipient_id = '${me.id}' and kind = 'certificate_issued'`),
    ).toHaveLength(1);
    expect(await deliveriesOf(me.id, 'certificate_issued')).toHaveLength(0);

    // and the receipt still goes out
    const orderId = randomUUID();
    await t.emit(OrderPaidEvent, paid(me.id, orderId));
    await settled(me.id, 'order_receipt', 'sent');
    expect(smtp.mails.filter((m) => m.to.includes(email)).map((m) => m.subject)).toEqual([
      'Welcome to Lectern, Ada <Lovelace>',
      `Your receipt for order ${orderId}`,
    ]);
  });

  it('a refusing SMTP server: retries with backoff, then dead, shown to the admin, who retries it', async () => {
    const email = `refused-${randomUUID()}@example.test`;
    smtp.refuse((address) => address === email);
    const me = await register(email);
    await settled(me.id, 'welcome', 'dead');
    const [dead] = await deliveriesOf(me.id, 'welcome');
    expect(dead?.attempts).toBe(3);
    const log = await t.rows<{ status: string; reason: string | null }>(
      'delivery_log',
      `delivery_id = '${dead?.id ?? ''}' order by seq`,
    );
    expect(log.map((l) => l.status)).toEqual(['queued', 'failed', 'failed', 'dead']);
    expect(log[1]?.reason).toContain('550');

    const admin = await t.caller('admin');
    const learner = await t.caller('learner');
    await t.expectStatus(403, 'GET', '/api/v1/admin/notify/deliveries', { as: learner });
    const failed = await t.expectStatus<{
      data: { id: string; status: string; lastError: string; log: unknown[] }[];
    }>(200, 'GET', '/api/v1/admin/notify/deliveries?status=dead', { as: admin });
    const shown = failed.data.find((d) => d.id === dead?.id);
    expect(shown?.status).toBe('dead');
    expect(shown?.lastError).toContain('550');
    expect(shown?.log).toHaveLength(4);

    // a sent delivery cannot be retried; an unknown one is not found
    await t.expectStatus(404, 'POST', `/api/v1/admin/notify/deliveries/${randomUUID()}/retry`, { as: admin });

    smtp.refuse(undefined);
    const retried = await t.expectStatus<{ status: string; attempts: number }>(
      200,
      'POST',
      `/api/v1/admin/notify/deliveries/${dead?.id ?? ''}/retry`,
      { as: admin },
    );
    expect(retried).toMatchObject({ status: 'queued', attempts: 0 });
    await settled(me.id, 'welcome', 'sent');
    expect(smtp.mails.filter((m) => m.to.includes(email))).toHaveLength(1);
    const again = await t.request('POST', `/api/v1/admin/notify/deliveries/${dead?.id ?? ''}/retry`, {
      as: admin,
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'notify.delivery-not-retryable' });
  });

  it('the admin preview renders a kind in a locale with its variables escaped in the HTML', async () => {
    const admin = await t.caller('admin');
    const preview = await t.expectStatus<{ subject: string; text: string; html: string }>(
      200,
      'GET',
      '/api/v1/admin/notify/templates/course_published/preview?locale=zh-CN',
      { as: admin },
    );
    expect(preview.subject).toBe('您的课程《TypeScript & <Friends>》已上架');
    expect(preview.html).toContain('《TypeScript &amp; &lt;Friends&gt;》');
    expect(preview.html).not.toContain('<Friends>');
    await t.expectStatus(400, 'GET', '/api/v1/admin/notify/templates/no_such_kind/preview', { as: admin });
    await t.expectStatus(400, 'GET', '/api/v1/admin/notify/templates/welcome/preview?locale=fr', {
      as: admin,
    });
    await t.expectStatus(403, 'GET', '/api/v1/admin/notify/templates/welcome/preview', {
      as: await t.caller('learner'),
    });
  });
});
