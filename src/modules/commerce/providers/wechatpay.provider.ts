import { createSign, createVerify, type KeyObject, randomBytes } from 'node:crypto';
import { Type } from 'typebox';
import { type Clock, epochSeconds, systemClock } from '../../../platform/clock.js';
import { gcmDecrypt } from '../../../platform/crypto.js';
import { AppError } from '../../../platform/errors.js';
import { malformed, notifiedMoney, parseJsonAs } from './notification-parsing.js';
import {
  type Acknowledgement,
  type CreatePaymentInput,
  type NotificationInput,
  type PaymentProvider,
  type PaymentRef,
  type ProviderPaymentState,
  type ProviderRefundState,
  type ProviderRefundStatus,
  type RefundInput,
  type RefundRef,
  type RefundResult,
  type Transport,
  type VerifiedNotification,
  PROVIDER_CALL_TIMEOUT_MS,
} from './provider.js';
import { NotificationError, NotificationErrors, ProviderError, ProviderErrors } from './provider.errors.js';
import { parseRfc3339, toChinaRfc3339 } from './provider-time.js';

/**
 * WeChat Pay API v3, Native (QR) payments. The signing rules are three lines of Node's crypto
 * (SHA256withRSA over newline-joined fields, AES-256-GCM for notification resources), so no SDK:
 * the maintained ones either wrap axios (wechatpay-axios-plugin) or download platform
 * certificates at run time (wechatpay-node-v3), and every call here must go through our transport.
 */
export interface WechatPayOptions {
  appId: string;
  mchId: string;
  /** Serial of the merchant API certificate, sent with every request. */
  mchSerial: string;
  mchPrivateKey: KeyObject;
  /** 32 characters; decrypts notification resources. */
  apiV3Key: string;
  /** The key WeChat Pay signs answers and notifications with, and its serial (or PUB_KEY_ID_…). */
  platformSerial: string;
  platformPublicKey: KeyObject;
  baseUrl: string;
  toleranceSeconds: number;
  fetch?: Transport;
  clock?: Clock;
}

const CURRENCY = 'CNY';

const Envelope = Type.Object({
  id: Type.String({ minLength: 1 }),
  create_time: Type.String(),
  event_type: Type.String({ minLength: 1 }),
  resource_type: Type.Literal('encrypt-resource'),
  resource: Type.Object({
    algorithm: Type.Literal('AEAD_AES_256_GCM'),
    original_type: Type.String(),
    ciphertext: Type.String({ minLength: 24 }),
    associated_data: Type.Optional(Type.String()),
    nonce: Type.String({ minLength: 12, maxLength: 12 }),
  }),
});

const Transaction = Type.Object({
  appid: Type.String(),
  mchid: Type.String(),
  out_trade_no: Type.String({ minLength: 1 }),
  transaction_id: Type.String({ minLength: 1 }),
  trade_state: Type.String(),
  success_time: Type.Optional(Type.String()),
  amount: Type.Object({ total: Type.Integer({ minimum: 0 }), currency: Type.String() }),
  payer: Type.Optional(Type.Object({ openid: Type.Optional(Type.String()) })),
});

const RefundResource = Type.Object({
  mchid: Type.String(),
  out_trade_no: Type.String({ minLength: 1 }),
  transaction_id: Type.String({ minLength: 1 }),
  out_refund_no: Type.String({ minLength: 1 }),
  refund_id: Type.String({ minLength: 1 }),
  refund_status: Type.String(),
  success_time: Type.Optional(Type.String()),
  amount: Type.Object({ total: Type.Integer({ minimum: 0 }), refund: Type.Integer({ minimum: 0 }) }),
});

/** The refund query's answer (`GET /v3/refund/domestic/refunds/{out_refund_no}`), the fields we read. */
const RefundAnswer = Type.Object({
  refund_id: Type.String({ minLength: 1 }),
  out_refund_no: Type.String({ minLength: 1 }),
  out_trade_no: Type.String({ minLength: 1 }),
  status: Type.String(),
  amount: Type.Object({ refund: Type.Integer({ minimum: 0 }), currency: Type.String() }),
});

/**
 * A refund's `status` onto ours. CLOSED and ABNORMAL fail it, as their REFUND.CLOSED and
 * REFUND.ABNORMAL notifications do; anything else is still processing.
 */
const REFUND_STATUS = new Map<string, ProviderRefundStatus>([
  ['SUCCESS', 'succeeded'],
  ['PROCESSING', 'pending'],
  ['CLOSED', 'failed'],
  ['ABNORMAL', 'failed'],
]);

/** `Timestamp\nNonce\nBody\n`: what WeChat Pay signs in answers and notifications. */
export const wechatMessage = (timestamp: string, nonce: string, body: string): string =>
  `${timestamp}\n${nonce}\n${body}\n`;

/** `METHOD\nPATH?QUERY\nTimestamp\nNonce\nBody\n`: what a merchant signs in a request. */
export const wechatRequestMessage = (
  method: string,
  path: string,
  timestamp: string,
  nonce: string,
  body: string,
): string => `${method}\n${path}\n${timestamp}\n${nonce}\n${body}\n`;

const PAID = new Set(['SUCCESS', 'REFUND']);
const CLOSED = new Set(['CLOSED', 'REVOKED', 'PAYERROR']);
const PENDING = new Set(['NOTPAY', 'USERPAYING']);

export function createWechatPayProvider(options: WechatPayOptions): PaymentProvider {
  const transport = options.fetch ?? fetch;
  const clock = options.clock ?? systemClock;
  const apiKey = Buffer.from(options.apiV3Key, 'utf8');

  /** The signature headers of an answer or notification, checked; returns nothing or throws `fail(code, why)`. */
  function checkSignature(
    headers: Record<string, string | undefined>,
    body: string,
    fail: (code: 'malformed' | 'badSignature' | 'stale' | 'unknownKey', why: string) => Error,
  ): void {
    const timestamp = headers['wechatpay-timestamp'];
    const nonce = headers['wechatpay-nonce'];
    const signature = headers['wechatpay-signature'];
    const serial = headers['wechatpay-serial'];
    if (!timestamp || !nonce || !signature || !serial)
      throw fail('malformed', 'Wechatpay-* signature headers are missing');
    if (!/^\d{1,12}$/.test(timestamp)) throw fail('malformed', 'Wechatpay-Timestamp is not a number');
    if (serial !== options.platformSerial)
      throw fail('unknownKey', `Wechatpay-Serial ${serial} is not the configured key`);
    if (signature.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) {
      // also catches the WECHATPAY/SIGNTEST/ probes WeChat Pay sends to test that signatures are checked
      throw fail('badSignature', 'Wechatpay-Signature is not a signature');
    }
    const ok = createVerify('RSA-SHA256')
      .update(wechatMessage(timestamp, nonce, body), 'utf8')
      .verify(options.platformPublicKey, signature, 'base64');
    if (!ok) throw fail('badSignature', 'Wechatpay-Signature does not match');
    if (Math.abs(epochSeconds(clock()) - Number(timestamp)) > options.toleranceSeconds) {
      throw fail('stale', 'Wechatpay-Timestamp is outside the window');
    }
  }

  const notificationFailure = (code: 'malformed' | 'badSignature' | 'stale' | 'unknownKey', why: string) =>
    new NotificationError(NotificationErrors[code], `WeChat Pay notification: ${why}`);

  /** One signed API call; the answer's signature is checked before its body is read. */
  async function call(
    method: 'GET' | 'POST',
    path: string,
    payload?: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const timestamp = String(epochSeconds(clock()));
    const nonce = randomBytes(16).toString('hex');
    const signature = createSign('RSA-SHA256')
      .update(wechatRequestMessage(method, path, timestamp, nonce, body), 'utf8')
      .sign(options.mchPrivateKey, 'base64');
    const authorization =
      `WECHATPAY2-SHA256-RSA2048 mchid="${options.mchId}",nonce_str="${nonce}",` +
      `signature="${signature}",timestamp="${timestamp}",serial_no="${options.mchSerial}"`;
    let status: number;
    let text: string;
    let headers: Record<string, string | undefined>;
    try {
      const response = await transport(`${options.baseUrl}${path}`, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          'user-agent': 'lectern',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(payload === undefined ? {} : { body }),
        signal: AbortSignal.timeout(PROVIDER_CALL_TIMEOUT_MS),
      });
      status = response.status;
      text = await response.text();
      headers = Object.fromEntries(response.headers.entries());
    } catch (err) {
      throw new ProviderError(
        ProviderErrors.unavailable,
        `WeChat Pay ${path} failed: ${(err as Error).message}`,
      );
    }
    if (status >= 500)
      throw new ProviderError(ProviderErrors.unavailable, `WeChat Pay ${path} answered ${status}`);
    checkSignature(
      headers,
      text,
      (_code, why) => new ProviderError(ProviderErrors.unavailable, `WeChat Pay answer: ${why}`),
    );
    if (status === 204) return { status, body: undefined };
    try {
      return { status, body: JSON.parse(text) as unknown };
    } catch {
      throw new ProviderError(
        ProviderErrors.unavailable,
        `WeChat Pay ${path} answered something that is not JSON`,
      );
    }
  }

  function refused(path: string, answer: { status: number; body: unknown }): ProviderError {
    const body = (answer.body ?? {}) as { code?: unknown; message?: unknown };
    const code = typeof body.code === 'string' ? body.code : String(answer.status);
    return new ProviderError(
      answer.status >= 400 && answer.status < 500 ? ProviderErrors.rejected : ProviderErrors.unavailable,
      `WeChat Pay ${path} refused: ${typeof body.message === 'string' ? body.message : code}`,
      code,
    );
  }

  function decrypt(resource: {
    ciphertext: string;
    nonce: string;
    associated_data?: string | undefined;
  }): string {
    const bytes = Buffer.from(resource.ciphertext, 'base64');
    if (bytes.length <= 16) throw malformed('WeChat Pay notification ciphertext is too short');
    try {
      return gcmDecrypt(
        apiKey,
        {
          iv: Buffer.from(resource.nonce, 'utf8'),
          ciphertext: bytes.subarray(0, -16),
          tag: bytes.subarray(-16),
        },
        Buffer.from(resource.associated_data ?? '', 'utf8'),
      ).toString('utf8');
    } catch {
      throw new NotificationError(
        NotificationErrors.badSignature,
        'WeChat Pay notification resource does not decrypt',
      );
    }
  }

  function checkCurrency(amount: { currency: string }): void {
    if (amount.currency !== CURRENCY) {
      throw AppError.validation(
        'commerce.currency-not-supported',
        `WeChat Pay Native takes ${CURRENCY} only, not ${amount.currency}.`,
      );
    }
  }

  function verify(input: NotificationInput): VerifiedNotification {
    const text = input.rawBody.toString('utf8');
    checkSignature(input.headers, text, notificationFailure);
    const envelope = parseJsonAs(Envelope, text, 'WeChat Pay notification');
    const plain = decrypt(envelope.resource);
    const time = (value: string | undefined): Date => {
      const date = parseRfc3339(value ?? envelope.create_time);
      if (!date) throw malformed('WeChat Pay notification time is not RFC 3339');
      return date;
    };
    if (envelope.event_type === 'TRANSACTION.SUCCESS' && envelope.resource.original_type === 'transaction') {
      const trade = parseJsonAs(Transaction, plain, 'WeChat Pay transaction');
      if (trade.mchid !== options.mchId || trade.appid !== options.appId) {
        throw new NotificationError(
          NotificationErrors.wrongMerchant,
          'WeChat Pay notification is for another merchant or app',
        );
      }
      if (trade.trade_state !== 'SUCCESS')
        throw malformed('WeChat Pay TRANSACTION.SUCCESS without trade_state SUCCESS');
      return {
        kind: 'payment.succeeded',
        notificationId: envelope.id,
        paymentId: trade.out_trade_no,
        providerTxnId: trade.transaction_id,
        amount: notifiedMoney(trade.amount.total, trade.amount.currency),
        merchant: trade.mchid,
        occurredAt: time(trade.success_time),
        ...(trade.payer?.openid ? { payer: trade.payer.openid } : {}),
      };
    }
    if (envelope.event_type.startsWith('REFUND.') && envelope.resource.original_type === 'refund') {
      const refund = parseJsonAs(RefundResource, plain, 'WeChat Pay refund');
      if (refund.mchid !== options.mchId) {
        throw new NotificationError(
          NotificationErrors.wrongMerchant,
          'WeChat Pay notification is for another merchant',
        );
      }
      const succeeded = envelope.event_type === 'REFUND.SUCCESS' && refund.refund_status === 'SUCCESS';
      const failed =
        ['REFUND.ABNORMAL', 'REFUND.CLOSED'].includes(envelope.event_type) &&
        refund.refund_status !== 'SUCCESS';
      if (!succeeded && !failed) throw malformed('WeChat Pay refund event and refund_status disagree');
      return {
        kind: succeeded ? 'refund.succeeded' : 'refund.failed',
        notificationId: envelope.id,
        paymentId: refund.out_trade_no,
        providerTxnId: refund.transaction_id,
        refundId: refund.out_refund_no,
        // refund notifications carry no currency: domestic refunds are in CNY
        amount: notifiedMoney(refund.amount.refund, CURRENCY),
        merchant: refund.mchid,
        occurredAt: time(refund.success_time),
      };
    }
    throw new NotificationError(
      NotificationErrors.unsupported,
      `WeChat Pay event ${envelope.event_type} is not handled`,
    );
  }

  return {
    name: 'wechatpay',

    async createPayment(input: CreatePaymentInput) {
      checkCurrency(input.amount);
      const path = '/v3/pay/transactions/native';
      const answer = await call('POST', path, {
        appid: options.appId,
        mchid: options.mchId,
        description: input.subject,
        out_trade_no: input.paymentId,
        time_expire: toChinaRfc3339(input.expiresAt),
        attach: input.orderId,
        notify_url: input.notifyUrl,
        amount: { total: input.amount.amount, currency: CURRENCY },
      });
      const codeUrl = (answer.body as { code_url?: unknown } | undefined)?.code_url;
      if (answer.status !== 200) throw refused(path, answer);
      if (typeof codeUrl !== 'string')
        throw new ProviderError(ProviderErrors.unavailable, `WeChat Pay ${path} gave no code_url`);
      return { action: { kind: 'qr', codeUrl } };
    },

    verifyNotification(input: NotificationInput): Promise<VerifiedNotification> {
      return Promise.resolve().then(() => verify(input));
    },

    async query(ref: PaymentRef): Promise<ProviderPaymentState> {
      const path = `/v3/pay/transactions/out-trade-no/${encodeURIComponent(ref.paymentId)}?mchid=${encodeURIComponent(options.mchId)}`;
      const answer = await call('GET', path);
      const body = answer.body as { code?: unknown } | undefined;
      if (answer.status === 404 && body?.code === 'ORDER_NOT_EXIST') return { status: 'unknown' };
      if (answer.status !== 200) throw refused(path, answer);
      let trade;
      try {
        trade = parseJsonAs(Transaction, JSON.stringify(answer.body), 'WeChat Pay transaction');
      } catch {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `WeChat Pay ${path} answered an unexpected shape`,
        );
      }
      if (trade.out_trade_no !== ref.paymentId || trade.mchid !== options.mchId) {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `WeChat Pay ${path} answered about another payment`,
        );
      }
      const status = PAID.has(trade.trade_state)
        ? 'succeeded'
        : CLOSED.has(trade.trade_state)
          ? 'closed'
          : PENDING.has(trade.trade_state)
            ? 'pending'
            : 'unknown';
      return {
        status,
        amount: notifiedMoney(trade.amount.total, trade.amount.currency),
        providerTxnId: trade.transaction_id,
      };
    },

    async refund(input: RefundInput): Promise<RefundResult> {
      checkCurrency(input.amount);
      const path = '/v3/refund/domestic/refunds';
      const answer = await call('POST', path, {
        out_trade_no: input.paymentId,
        out_refund_no: input.refundId,
        ...(input.reason ? { reason: input.reason } : {}),
        amount: { refund: input.amount.amount, total: input.total.amount, currency: CURRENCY },
      });
      if (answer.status !== 200) throw refused(path, answer);
      const body = answer.body as { refund_id?: unknown; out_refund_no?: unknown; status?: unknown };
      if (typeof body.refund_id !== 'string' || body.out_refund_no !== input.refundId) {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `WeChat Pay ${path} answered about another refund`,
        );
      }
      if (body.status === 'SUCCESS') return { providerRefundId: body.refund_id, status: 'succeeded' };
      if (body.status === 'PROCESSING') return { providerRefundId: body.refund_id, status: 'pending' };
      throw new ProviderError(
        ProviderErrors.rejected,
        `WeChat Pay refund is ${String(body.status)}`,
        String(body.status),
      );
    },

    async queryRefund(ref: RefundRef): Promise<ProviderRefundState> {
      const path = `/v3/refund/domestic/refunds/${encodeURIComponent(ref.refundId)}`;
      const answer = await call('GET', path);
      const body = answer.body as { code?: unknown } | undefined;
      if (answer.status === 404 && body?.code === 'RESOURCE_NOT_EXISTS') return { status: 'unknown' };
      if (answer.status !== 200) throw refused(path, answer);
      let refund;
      try {
        refund = parseJsonAs(RefundAnswer, JSON.stringify(answer.body), 'WeChat Pay refund');
      } catch {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `WeChat Pay ${path} answered an unexpected shape`,
        );
      }
      if (refund.out_refund_no !== ref.refundId || refund.out_trade_no !== ref.paymentId) {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `WeChat Pay ${path} answered about another refund`,
        );
      }
      let amount;
      try {
        amount = notifiedMoney(refund.amount.refund, refund.amount.currency);
      } catch {
        throw new ProviderError(ProviderErrors.unavailable, `WeChat Pay ${path} answered an invalid amount`);
      }
      return {
        status: REFUND_STATUS.get(refund.status) ?? 'pending',
        amount,
        providerRefundId: refund.refund_id,
      };
    },

    acknowledge(outcome): Acknowledgement {
      // WeChat Pay takes 200/204 as received; any 4xx/5xx with a code and message makes it retry
      return outcome === 'ok'
        ? { status: 204, contentType: 'application/json', body: '' }
        : { status: 500, contentType: 'application/json', body: '{"code":"FAIL","message":"retry later"}' };
    },
  };
}
