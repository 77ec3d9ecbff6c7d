import { createHash, createHmac } from 'node:crypto';
import type { Logger } from 'pino';

export interface SmsMessage {
  /** E.164, e.g. +8613800000000. */
  to: string;
  /** The one-line text; providers that need approved templates put it in the template's parameter. */
  text: string;
}

/** An SMS provider. Throws when the provider refused or could not be reached (the delivery retries). */
export interface SmsSender {
  kind: string;
  send(message: SmsMessage): Promise<{ id: string }>;
}

/** A number as logs and the personal-data copy show it: country code and a few digits, the rest hidden. */
export const maskPhone = (phone: string): string => `${phone.slice(0, 4)}****${phone.slice(-2)}`;

/** The development adapter: the message goes to the log (number masked), nothing leaves the machine. */
export function consoleSms(logger: Logger): SmsSender {
  let n = 0;
  return {
    kind: 'console',
    send(message) {
      n++;
      logger.info({ to: maskPhone(message.to), text: message.text }, 'SMS (console adapter, not sent)');
      return Promise.resolve({ id: `console-${n}` });
    },
  };
}

export interface TencentSmsOptions {
  /** Base URL, e.g. https://sms.tencentcloudapi.com; its host is signed. */
  endpoint: string;
  region: string;
  secretId: string;
  secretKey: string;
  appId: string;
  signName: string;
  templateId: string;
  fetch?: typeof fetch;
  now?: () => Date;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * Tencent Cloud API 3.0 request signing (TC3-HMAC-SHA256) for one POST with a JSON body:
 * canonical request → string to sign → key derived from the secret, the UTC date and the service.
 * Returns the Authorization header value.
 */
export function tc3Authorization(input: {
  secretId: string;
  secretKey: string;
  service: string;
  host: string;
  action: string;
  timestamp: number;
  payload: string;
}): string {
  const date = new Date(input.timestamp * 1000).toISOString().slice(0, 10);
  const signedHeaders = 'content-type;host;x-tc-action';
  const canonicalHeaders =
    `content-type:application/json; charset=utf-8\nhost:${input.host}\n` +
    `x-tc-action:${input.action.toLowerCase()}\n`;
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signedHeaders, sha256Hex(input.payload)].join(
    '\n',
  );
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(input.timestamp), scope, sha256Hex(canonicalRequest)].join(
    '\n',
  );
  const key = hmac(hmac(hmac(`TC3${input.secretKey}`, date), input.service), 'tc3_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return `TC3-HMAC-SHA256 Credential=${input.secretId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

interface TencentAnswer {
  Response?: {
    Error?: { Code?: string; Message?: string };
    SendStatusSet?: { Code?: string; Message?: string; SerialNo?: string }[];
    RequestId?: string;
  };
}

/** Tencent Cloud SMS (SendSms, API version 2021-01-11). The network is the injected `fetch`. */
export function tencentSms(options: TencentSmsOptions): SmsSender {
  const url = new URL(options.endpoint);
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  return {
    kind: 'tencent',
    async send(message) {
      const action = 'SendSms';
      const payload = JSON.stringify({
        PhoneNumberSet: [message.to],
        SmsSdkAppId: options.appId,
        SignName: options.signName,
        TemplateId: options.templateId,
        TemplateParamSet: [message.text],
      });
      const timestamp = Math.floor(now().getTime() / 1000);
      const response = await doFetch(new URL('/', url), {
        method: 'POST',
        headers: {
          authorization: tc3Authorization({
            secretId: options.secretId,
            secretKey: options.secretKey,
            service: 'sms',
            host: url.host,
            action,
            timestamp,
            payload,
          }),
          'content-type': 'application/json; charset=utf-8',
          'x-tc-action': action,
          'x-tc-timestamp': String(timestamp),
          'x-tc-version': '2021-01-11',
          'x-tc-region': options.region,
        },
        body: payload,
        signal: AbortSignal.timeout(10_000),
      });
      if (!response.ok) throw new Error(`SMS provider answered HTTP ${response.status}`);
      const answer = (await response.json()) as TencentAnswer;
      const error = answer.Response?.Error;
      if (error)
        throw new Error(`SMS provider refused: ${error.Code ?? 'unknown'} ${error.Message ?? ''}`.trim());
      const status = answer.Response?.SendStatusSet?.[0];
      if (status?.Code !== 'Ok') {
        throw new Error(
          `SMS provider refused: ${status?.Code ?? 'no status'} ${status?.Message ?? ''}`.trim(),
        );
      }
      return { id: status.SerialNo ?? answer.Response?.RequestId ?? '' };
    },
  };
}
