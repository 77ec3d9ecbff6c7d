import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PayoutPaidEvent, PayoutRejectedEvent } from '../commerce/index.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';
import { render } from './templates.js';

let t: NotifyTest;
beforeAll(async () => {
  t = await startNotify();
});
afterAll(async () => {
  await t.stop();
});

/** The email deliveries of one kind to one person, each with its pg-boss job count. */
async function emailsOf(userId: string, kind: string) {
  const { rows } = await sql<{ channel: string; jobs: number }>`
    select d.channel,
      (select count(*)::int from pgboss.job j
        where j.name = 'notify.deliver' and j.data->>'deliveryId' = d.id::text) as jobs
    from notify.deliveries d join notify.notifications n on n.id = d.notification_id
    where d.recipient_id = ${userId} and n.kind = ${kind}`.execute(t.app.platform.database.db);
  return rows;
}

const paid = (instructorId: string, payoutId = randomUUID()) => ({
  payoutId,
  instructorId,
  amount: 123_456,
  currency: 'CNY',
  reference: 'TRF-2026-0042',
  paidAt: '2026-03-01T08:00:00.000Z',
});

const rejected = (instructorId: string, payoutId = randomUUID()) => ({
  payoutId,
  instructorId,
  amount: 50_000,
  currency: 'CNY',
  reason: 'The account holder <name> does not match yours',
  rejectedAt: '2026-03-01T08:00:00.000Z',
});

describe('payout notices', () => {
  it('a paid payout tells the instructor once, with the amount and the transfer reference, and queues an email', async () => {
    const [instructor, other] = [await t.caller('instructor'), await t.caller('instructor')];
    const data = paid(instructor.id);
    const event = await t.emit(PayoutPaidEvent, data);
    // the same event delivered again, and another event about the same payout
    await t.emit(PayoutPaidEvent, data, { id: event.id });
    await t.emit(PayoutPaidEvent, { ...data, reference: 'TRF-AGAIN' });

    const inbox = await t.inbox(instructor.token);
    expect(inbox.data.map((n) => n.kind)).toEqual(['payout_paid']);
    expect(inbox.data[0]).toMatchObject({
      title: 'Your payout of CN¥1,234.56 was paid',
      data: { payoutId: data.payoutId, amount: 123_456, currency: 'CNY', reference: 'TRF-2026-0042' },
    });
    const text = render('payout_paid', inbox.data[0]?.data ?? {}, 'en').text;
    expect(text).toContain('We paid your payout of CN¥1,234.56 by bank transfer.');
    expect(text).toContain('Transfer reference: TRF-2026-0042');
    expect(await emailsOf(instructor.id, 'payout_paid')).toEqual([{ channel: 'email', jobs: 1 }]);
    expect((await t.inbox(other.token)).data).toHaveLength(0);
  });

  it('a rejected payout tells the instructor once, with the amount and the admin’s reason, and queues an email', async () => {
    const instructor = await t.caller('instructor');
    const data = rejected(instructor.id);
    const event = await t.emit(PayoutRejectedEvent, data);
    await t.emit(PayoutRejectedEvent, data, { id: event.id });
    await t.emit(PayoutRejectedEvent, data);

    const inbox = await t.inbox(instructor.token);
    expect(inbox.data.map((n) => n.kind)).toEqual(['payout_rejected']);
    expect(inbox.data[0]).toMatchObject({
      title: 'Your payout request of CN¥500.00 was not approved',
      data: { amount: 50_000, currency: 'CNY', reason: data.reason },
    });
    const rendered = render('payout_rejected', inbox.data[0]?.data ?? {}, 'en');
    expect(rendered.text).toContain(`Reason: ${data.reason}`);
    // the admin's words are escaped in the mail's HTML
    expect(rendered.html).toContain('Reason: The account holder &lt;name&gt; does not match yours');
    expect(await emailsOf(instructor.id, 'payout_rejected')).toEqual([{ channel: 'email', jobs: 1 }]);
  });

  it('a rejected payout and a later paid one are two notices', async () => {
    const instructor = await t.caller('instructor');
    await t.emit(PayoutRejectedEvent, rejected(instructor.id));
    await t.emit(PayoutPaidEvent, paid(instructor.id));
    expect((await t.inbox(instructor.token)).data.map((n) => n.kind)).toEqual([
      'payout_paid',
      'payout_rejected',
    ]);
  });

  it('says the same in Chinese for an instructor who chose it', async () => {
    const instructor = await t.caller('instructor');
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', {
      as: instructor,
      body: { locale: 'zh-CN' },
    });
    await t.emit(PayoutPaidEvent, paid(instructor.id));
    await t.emit(PayoutRejectedEvent, rejected(instructor.id));
    const inbox = await t.inbox(instructor.token);
    expect(inbox.data.map((n) => n.title)).toEqual([
      '您的 ¥500.00 提现申请未通过',
      '您的 ¥1,234.56 结算款已支付',
    ]);
    expect(render('payout_paid', inbox.data[1]?.data ?? {}, 'zh-CN').text).toContain(
      '转账参考号：TRF-2026-0042',
    );
    expect(render('payout_rejected', inbox.data[0]?.data ?? {}, 'zh-CN').text).toContain(
      '原因：The account holder <name> does not match yours',
    );
  });
});
