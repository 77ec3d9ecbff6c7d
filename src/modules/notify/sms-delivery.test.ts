import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../platform/messaging/test-support.js';
import { OrderPaidEvent, OrderRefundedEvent } from '../commerce/index.js';
import { UserRegisteredEvent } from '../identity/index.js';
import { type NotifyTest, startNotify } from './notify.test-support.js';

// SMS in the running app: NOTIFY_SMS_PROVIDER=tencent aimed at a local server that answers as the
// provider does, so the request the app really sends is what is checked.
let server: Server;
const received: { headers: IncomingMessage['headers']; body: Record<string, unknown> }[] = [];
let t: NotifyTest;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ Response: { SendStatusSet: [{ Code: 'Ok', SerialNo: 's' }], RequestId: 'r' } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await startNotify(
    {
      settings: {
        NOTIFY_SMS_PROVIDER: 'tencent',
        NOTIFY_SMS_ENDPOINT: endpoint,
        NOTIFY_SMS_SECRET_ID: 'AKIDtest',
        NOTIFY_SMS_SECRET_KEY: 'test-secret-key',
        NOTIFY_SMS_APP_ID: '1400000000',
        NOTIFY_SMS_SIGN_NAME: 'Lectern',
        NOTIFY_SMS_TEMPLATE_ID: '100001',
      },
    },
    { env: { JOBS_POLL_MS: '500' } },
  );
}, 120_000);
afterAll(async () => {
  await t.stop();
  await new Promise((resolve) => server.close(resolve));
});

async function learner(prefs?: Record<string, unknown>) {
  const user = await t.caller('learner');
  await t.emit(UserRegisteredEvent, {
    userId: user.id,
    email: `${user.id}@example.test`,
    displayName: 'Ada',
  });
  if (prefs)
    await t.expectStatus(200, 'PUT', '/api/v1/me/notification-preferences', { as: user, body: prefs });
  return user;
}

const paid = (userId: string, orderId: string) => ({
  orderId,
  userId,
  lines: [{ courseId: randomUUID(), title: 'Rust', amount: 19_900, instructorIds: [] }],
  total: 19_900,
  currency: 'CNY',
  provider: 'sandbox' as const,
  paidAt: '2026-03-01T08:00:00.000Z',
});

const smsOf = (userId: string) =>
  t.rows<{ status: string; kind: string }>('deliveries', `channel = 'sms' and recipient_id = '${userId}'`);
const sentTo = (phone: string) =>
  received.filter((r) => (r.body.PhoneNumberSet as string[] | undefined)?.includes(phone));

describe('SMS as a delivery channel', () => {
  it('texts the receipt and the refund to a person who gave a phone and turned SMS on, through the configured provider', async () => {
    const phone = '+8613800138000';
    const buyer = await learner({
      phone,
      // inside quiet hours all day: receipts and refunds are urgent and are not held
      quietHours: { start: '00:00', end: '23:59', timeZone: 'Asia/Shanghai' },
      kinds: [
        { kind: 'order_receipt', channels: { sms: true } },
        { kind: 'refund_processed', channels: { sms: true } },
      ],
    });
    const orderId = randomUUID();
    await t.emit(OrderPaidEvent, paid(buyer.id, orderId));
    await t.emit(OrderRefundedEvent, {
      orderId,
      userId: buyer.id,
      refundId: randomUUID(),
      amount: 19_900,
      currency: 'CNY',
      revokedCourseIds: [],
      orderStatus: 'refunded',
      refundedAt: '2026-03-02T08:00:00.000Z',
    });
    await waitFor(
      async () => {
        const rows = await smsOf(buyer.id);
        return rows.length === 2 && rows.every((r) => r.status === 'sent');
      },
      'both SMS deliveries to be sent',
      30_000,
    );
    const requests = sentTo(phone);
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(request.headers['x-tc-action']).toBe('SendSms');
      expect(String(request.headers.authorization)).toMatch(/^TC3-HMAC-SHA256 Credential=AKIDtest\//);
      expect(request.body).toMatchObject({
        SmsSdkAppId: '1400000000',
        SignName: 'Lectern',
        TemplateId: '100001',
      });
    }
    const texts = requests.map((r) => (r.body.TemplateParamSet as string[])[0] ?? '');
    expect(texts.some((text) => text.includes(orderId))).toBe(true);
    // the email receipt still goes too (email is on by default for receipts)
    const kinds = (await t.rows<{ channel: string }>('deliveries', `recipient_id = '${buyer.id}'`)).map(
      (d) => d.channel,
    );
    expect(kinds.filter((c) => c === 'email').length).toBeGreaterThanOrEqual(2);
  });

  it('sends no SMS to a person who did not turn it on, and skips one who has no phone', async () => {
    const quiet = await learner({ phone: '+8613900139000' });
    await t.emit(OrderPaidEvent, paid(quiet.id, randomUUID()));
    const noPhone = await learner({ kinds: [{ kind: 'order_receipt', channels: { sms: true } }] });
    await t.emit(OrderPaidEvent, paid(noPhone.id, randomUUID()));
    await waitFor(
      async () => (await smsOf(noPhone.id)).some((r) => r.status === 'skipped'),
      'the SMS without a phone to be skipped',
      30_000,
    );
    expect(await smsOf(quiet.id)).toEqual([]);
    expect(sentTo('+8613900139000')).toEqual([]);
  });

  it('refuses a phone that is not E.164, naming the field, and changes nothing', async () => {
    const user = await learner({ phone: '+8613700137000' });
    const bad = await t.request('PUT', '/api/v1/me/notification-preferences', {
      as: user,
      body: { phone: '13700137000' },
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('phone');
    const view = await t.expectStatus<{ phone: string }>(200, 'GET', '/api/v1/me/notification-preferences', {
      as: user,
    });
    expect(view.phone).toBe('+8613700137000');
  });
});
