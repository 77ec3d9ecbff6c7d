import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../platform/messaging/test-support.js';
import { consoleSms, tencentSms } from './sms.js';

const SECRET_ID = 'AKIDtest';
const SECRET_KEY = 'test-secret-key';

/** The provider's check, written out from its documented steps (not the adapter's code). */
function expectedAuthorization(req: IncomingMessage, body: string): string {
  const ts = Number(req.headers['x-tc-timestamp']);
  const date = new Date(ts * 1000).toISOString().slice(0, 10);
  const hex = (s: string) => createHash('sha256').update(s).digest('hex');
  const canonical = `POST\n/\n\ncontent-type:${String(req.headers['content-type'])}\nhost:${String(req.headers.host)}\nx-tc-action:${String(req.headers['x-tc-action']).toLowerCase()}\n\ncontent-type;host;x-tc-action\n${hex(body)}`;
  const toSign = `TC3-HMAC-SHA256\n${ts}\n${date}/sms/tc3_request\n${hex(canonical)}`;
  const kDate = createHmac('sha256', `TC3${SECRET_KEY}`).update(date).digest();
  const kService = createHmac('sha256', kDate).update('sms').digest();
  const kSigning = createHmac('sha256', kService).update('tc3_request').digest();
  const signature = createHmac('sha256', kSigning).update(toSign).digest('hex');
  return `TC3-HMAC-SHA256 Credential=${SECRET_ID}/${date}/sms/tc3_request, SignedHeaders=content-type;host;x-tc-action, Signature=${signature}`;
}

let server: Server;
let endpoint = '';
const received: { headers: IncomingMessage['headers']; body: Record<string, unknown> }[] = [];
let answer: unknown = {
  Response: { SendStatusSet: [{ Code: 'Ok', SerialNo: 'serial-1' }], RequestId: 'r1' },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(body) as Record<string, unknown> });
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== expectedAuthorization(req, body)) {
        res.end(
          JSON.stringify({
            Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'bad signature' } },
          }),
        );
        return;
      }
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const adapter = (secretKey = SECRET_KEY) =>
  tencentSms({
    endpoint,
    region: 'ap-guangzhou',
    secretId: SECRET_ID,
    secretKey,
    appId: '1400000000',
    signName: 'Lectern',
    templateId: '100001',
    now: () => new Date('2026-03-01T00:00:00Z'),
  });

describe('Tencent Cloud SMS', () => {
  it('sends a signed SendSms request to the configured host', async () => {
    const result = await adapter().send({ to: '+8613800000000', text: 'Your receipt for order 1' });
    expect(result.id).toBe('serial-1');
    const [request] = received.slice(-1);
    expect(request?.headers).toMatchObject({
      'x-tc-action': 'SendSms',
      'x-tc-version': '2021-01-11',
      'x-tc-region': 'ap-guangzhou',
      'x-tc-timestamp': String(Date.parse('2026-03-01T00:00:00Z') / 1000),
    });
    expect(request?.body).toEqual({
      PhoneNumberSet: ['+8613800000000'],
      SmsSdkAppId: '1400000000',
      SignName: 'Lectern',
      TemplateId: '100001',
      TemplateParamSet: ['Your receipt for order 1'],
    });
  });

  it('a wrong secret fails the signature check; a refused number throws with the provider’s code', async () => {
    await expect(adapter('wrong').send({ to: '+8613800000000', text: 'x' })).rejects.toThrow(
      'AuthFailure.SignatureFailure',
    );
    answer = {
      Response: { SendStatusSet: [{ Code: 'LimitExceeded.PhoneNumberDailyLimit', Message: 'limit' }] },
    };
    await expect(adapter().send({ to: '+8613800000000', text: 'x' })).rejects.toThrow(
      'LimitExceeded.PhoneNumberDailyLimit',
    );
  });

  it('the console adapter logs the text with the number masked', async () => {
    const { logger, lines } = capturingLogger('info');
    await consoleSms(logger).send({ to: '+8613812345678', text: 'hello' });
    expect(lines[0]).toMatchObject({ to: '+861****78', text: 'hello' });
  });
});
