import { Type } from 'typebox';
import type { SettingsOf } from '../../platform/settings.js';

/** The notify module's environment settings (the platform's config holds SMTP and the rest). */
export const NotifySettings = Type.Object({
  NOTIFY_MAX_ATTEMPTS: Type.Integer({
    minimum: 1,
    maximum: 20,
    default: 6,
    description: 'Tries of one email or SMS before it is dead-lettered for an admin to retry',
  }),
  NOTIFY_RETRY_BASE_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 3600,
    default: 30,
    description:
      'Delay before the first retry of a failed delivery; doubled (with jitter) on each further one',
  }),
  NOTIFY_RATE_LIMIT_PER_HOUR: Type.Integer({
    minimum: 1,
    maximum: 10_000,
    default: 20,
    description:
      'Emails or SMS one person receives per hour at most; the rest wait (transactional ones never do)',
  }),
  NOTIFY_FANOUT_BATCH: Type.Integer({
    minimum: 10,
    maximum: 10_000,
    default: 1000,
    description: 'Recipients one fan-out job gives a notification to before handing over to the next job',
  }),
  NOTIFY_SSE_HEARTBEAT_SECONDS: Type.Integer({
    minimum: 1,
    maximum: 300,
    default: 25,
    description:
      'Seconds between comment lines on an idle notification stream (keeps proxies from closing it)',
  }),
  NOTIFY_SMS_PROVIDER: Type.Union([Type.Literal('console'), Type.Literal('tencent')], {
    default: 'console',
    description: 'SMS adapter: console (writes to the log) or tencent (Tencent Cloud SMS API 3.0)',
  }),
  NOTIFY_SMS_ENDPOINT: Type.String({
    default: 'https://sms.tencentcloudapi.com',
    description: 'Base URL of the SMS provider’s API',
  }),
  NOTIFY_SMS_REGION: Type.String({ default: 'ap-guangzhou', description: 'Region the SMS API is asked in' }),
  NOTIFY_SMS_APP_ID: Type.Optional(Type.String({ description: 'The SMS application id (SmsSdkAppId)' })),
  NOTIFY_SMS_SIGN_NAME: Type.Optional(Type.String({ description: 'The approved SMS signature name' })),
  NOTIFY_SMS_TEMPLATE_ID: Type.Optional(
    Type.String({ description: 'The approved SMS template, with one parameter: the message summary' }),
  ),
  NOTIFY_SMS_SECRET_ID: Type.Optional(Type.String({ description: 'API key id of the SMS provider' })),
  NOTIFY_SMS_SECRET_KEY: Type.Optional(
    Type.String({ secret: true, description: 'API secret key of the SMS provider' }),
  ),
});
export type NotifySettings = SettingsOf<typeof NotifySettings>;
