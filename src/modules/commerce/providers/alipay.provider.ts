import type { AlipaySdk } from 'alipay-sdk';
import { type Clock, systemClock } from '../../../platform/clock.js';
import { AppError } from '../../../platform/errors.js';
import { parseFormBody } from '../../../platform/http/raw-body.js';
import { toDecimalString } from '../../../platform/money.js';
import { malformed, notifiedDecimal } from './notification-parsing.js';
import {
  type Acknowledgement,
  type CreatePaymentInput,
  type NotificationInput,
  type NotificationKind,
  type PaymentAction,
  type PaymentProvider,
  type PaymentRef,
  type ProviderPaymentState,
  type ProviderRefundState,
  type RefundInput,
  type RefundRef,
  type RefundResult,
  type Transport,
  type VerifiedNotification,
  PROVIDER_CALL_TIMEOUT_MS,
} from './provider.js';
import { NotificationError, NotificationErrors, ProviderError, ProviderErrors } from './provider.errors.js';
import { parseChinaTime, toChinaTime } from './provider-time.js';

/**
 * Alipay open platform (v2 gateway API): page payment (a redirect to the Alipay cashier) or a
 * QR code from `alipay.trade.precreate`, RSA2 signatures by the official SDK, answers and
 * notifications checked against the Alipay public key. Alipay settles in CNY only.
 */
export interface AlipayOptions {
  appId: string;
  /** App private key, PEM (PKCS#8). */
  privateKey: string;
  /** Alipay's public key, PEM (SPKI). */
  alipayPublicKey: string;
  sellerId?: string;
  gateway: string;
  product: 'page' | 'qr';
  fetch?: Transport;
  clock?: Clock;
}

const CURRENCY = 'CNY';

/** The statuses of a trade, as `trade_status` names them. */
const PAID = new Set(['TRADE_SUCCESS', 'TRADE_FINISHED']);
const CLOSED = 'TRADE_CLOSED';
const WAITING = 'WAIT_BUYER_PAY';
/** The only `refund_status` of a refund query: without it Alipay has the request but no done refund. */
const REFUNDED = 'REFUND_SUCCESS';

interface GatewayAnswer {
  code: string;
  msg?: string;
  sub_code?: string;
  sub_msg?: string;
  [field: string]: unknown;
}

export function createAlipayProvider(options: AlipayOptions): PaymentProvider {
  const transport = options.fetch ?? fetch;
  const clock = options.clock ?? systemClock;
  // the SDK (with its HTTP client, undici) is 6 MB of heap and 11 MB of RSS beside our other
  // packages (33 MB alone): it is loaded at the first call that needs it, so a process that never
  // meets an Alipay payment never carries it
  let client: Promise<AlipaySdk> | undefined;

  /** The SDK's client; a failed import is an Alipay that cannot be asked (503). */
  async function loaded(what: string): Promise<AlipaySdk> {
    client ??= import('alipay-sdk').then(
      ({ AlipaySdk: SDK }) =>
        new SDK({
          appId: options.appId,
          privateKey: options.privateKey,
          keyType: 'PKCS8',
          alipayPublicKey: options.alipayPublicKey,
          gateway: options.gateway,
          camelcase: false,
        }),
    );
    try {
      return await client;
    } catch (err) {
      client = undefined;
      throw new ProviderError(ProviderErrors.unavailable, `Alipay ${what} failed: ${(err as Error).message}`);
    }
  }

  // the SDK stamps requests with the machine's local time; Alipay reads China time
  const timestamp = (): string => toChinaTime(clock());

  /** One gateway call: SDK-signed form post through our transport, answer signature checked. */
  async function call(
    method: string,
    bizContent: Record<string, unknown>,
    extra: Record<string, string> = {},
  ) {
    const sdk = await loaded(method);
    const body = sdk.sdkExecute(
      method,
      { bizContent, timestamp: timestamp(), ...extra },
      { bizContentAutoSnakeCase: false },
    );
    let text: string;
    try {
      const response = await transport(options.gateway, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
          accept: 'application/json',
        },
        body,
        signal: AbortSignal.timeout(PROVIDER_CALL_TIMEOUT_MS),
      });
      text = await response.text();
      if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    } catch (err) {
      throw new ProviderError(
        ProviderErrors.unavailable,
        `Alipay ${method} failed: ${(err as Error).message}`,
      );
    }
    const responseKey = `${method.replaceAll('.', '_')}_response`;
    let parsed: { sign?: unknown; [key: string]: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new ProviderError(
        ProviderErrors.unavailable,
        `Alipay ${method} answered something that is not JSON`,
      );
    }
    const answer = (parsed[responseKey] ?? parsed.error_response) as GatewayAnswer | undefined;
    if (typeof answer !== 'object' || typeof answer.code !== 'string') {
      throw new ProviderError(ProviderErrors.unavailable, `Alipay ${method} answer has no ${responseKey}`);
    }
    // Alipay signs business answers; only gateway-level errors may come unsigned, and those carry no data we use
    if (typeof parsed.sign === 'string' || answer.code === '10000') {
      try {
        sdk.checkResponseSign(
          text,
          parsed[responseKey] ? responseKey : 'error_response',
          String(parsed.sign),
          '',
        );
      } catch {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `Alipay ${method} answer signature does not check`,
        );
      }
    }
    return answer;
  }

  // Alipay's own trouble (code 20000, ACQ.SYSTEM_ERROR) asks for the same call again: an outage, not
  // a refusal, or a refund it may yet make would be failed here and its amount freed
  const rejected = (method: string, answer: GatewayAnswer): ProviderError =>
    new ProviderError(
      answer.code === '20000' || answer.sub_code === 'ACQ.SYSTEM_ERROR'
        ? ProviderErrors.unavailable
        : ProviderErrors.rejected,
      `Alipay ${method} refused: ${answer.sub_msg ?? answer.msg ?? answer.code}`,
      answer.sub_code ?? answer.code,
    );

  function amountOf(answer: GatewayAnswer, field: string, method: string) {
    const value = answer[field];
    try {
      if (typeof value !== 'string') throw new Error('missing');
      return notifiedDecimal(value, CURRENCY);
    } catch {
      throw new ProviderError(ProviderErrors.unavailable, `Alipay ${method} answer has no valid ${field}`);
    }
  }

  function checkCurrency(input: { amount: { currency: string } }): void {
    if (input.amount.currency !== CURRENCY) {
      throw AppError.validation(
        'commerce.currency-not-supported',
        `Alipay takes ${CURRENCY} only, not ${input.amount.currency}.`,
      );
    }
  }

  return {
    name: 'alipay',

    async createPayment(input: CreatePaymentInput) {
      checkCurrency(input);
      const bizContent = {
        out_trade_no: input.paymentId,
        total_amount: toDecimalString(input.amount),
        subject: input.subject,
        time_expire: toChinaTime(input.expiresAt),
      };
      if (options.product === 'page') {
        const sdk = await loaded('alipay.trade.page.pay');
        const url = sdk.pageExecute('alipay.trade.page.pay', 'GET', {
          bizContent: { ...bizContent, product_code: 'FAST_INSTANT_TRADE_PAY' },
          notify_url: input.notifyUrl,
          ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
          timestamp: timestamp(),
        });
        const action: PaymentAction = { kind: 'redirect', url };
        return { action };
      }
      const method = 'alipay.trade.precreate';
      const answer = await call(method, bizContent, { notify_url: input.notifyUrl });
      if (answer.code !== '10000') throw rejected(method, answer);
      if (typeof answer.qr_code !== 'string' || answer.out_trade_no !== input.paymentId) {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `Alipay ${method} answer has no QR code for this payment`,
        );
      }
      return { action: { kind: 'qr', codeUrl: answer.qr_code } };
    },

    verifyNotification(input: NotificationInput): Promise<VerifiedNotification> {
      return verify(input);
    },

    async query(ref: PaymentRef): Promise<ProviderPaymentState> {
      const method = 'alipay.trade.query';
      const answer = await call(method, { out_trade_no: ref.paymentId });
      if (answer.code !== '10000') {
        if (answer.sub_code === 'ACQ.TRADE_NOT_EXIST') return { status: 'unknown' };
        throw rejected(method, answer);
      }
      if (answer.out_trade_no !== ref.paymentId) {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `Alipay ${method} answered about another payment`,
        );
      }
      const tradeStatus = String(answer.trade_status);
      const status = PAID.has(tradeStatus)
        ? 'succeeded'
        : tradeStatus === CLOSED
          ? 'closed'
          : tradeStatus === WAITING
            ? 'pending'
            : 'unknown';
      return {
        status,
        amount: amountOf(answer, 'total_amount', method),
        ...(typeof answer.trade_no === 'string' ? { providerTxnId: answer.trade_no } : {}),
      };
    },

    async refund(input: RefundInput): Promise<RefundResult> {
      checkCurrency(input);
      const method = 'alipay.trade.refund';
      const answer = await call(method, {
        out_trade_no: input.paymentId,
        out_request_no: input.refundId,
        refund_amount: toDecimalString(input.amount),
        ...(input.reason ? { refund_reason: input.reason } : {}),
      });
      if (answer.code !== '10000') throw rejected(method, answer);
      if (answer.out_trade_no !== input.paymentId || typeof answer.trade_no !== 'string') {
        throw new ProviderError(
          ProviderErrors.unavailable,
          `Alipay ${method} answered about another payment`,
        );
      }
      // Alipay refunds synchronously: code 10000 is a done refund (a repeated out_request_no too)
      return { providerRefundId: `${answer.trade_no}:${input.refundId}`, status: 'succeeded' };
    },

    async queryRefund(ref: RefundRef): Promise<ProviderRefundState> {
      const method = 'alipay.trade.fastpay.refund.query';
      const answer = await call(method, { out_trade_no: ref.paymentId, out_request_no: ref.refundId });
      if (answer.code !== '10000') {
        if (answer.sub_code === 'ACQ.TRADE_NOT_EXIST') return { status: 'unknown' };
        throw rejected(method, answer);
      }
      // code 10000 only says the query ran; an answer without out_request_no found no such refund
      if (answer.out_request_no === undefined || answer.out_request_no === '') return { status: 'unknown' };
      if (answer.out_request_no !== ref.refundId || answer.out_trade_no !== ref.paymentId) {
        throw new ProviderError(ProviderErrors.unavailable, `Alipay ${method} answered about another refund`);
      }
      const providerRefundId =
        typeof answer.trade_no === 'string' ? { providerRefundId: `${answer.trade_no}:${ref.refundId}` } : {};
      if (answer.refund_status === REFUNDED) {
        return {
          status: 'succeeded',
          amount: amountOf(answer, 'refund_amount', method),
          ...providerRefundId,
        };
      }
      // no refund_status: not received, not done yet, or failed; Alipay asks for a resend with the
      // same out_request_no (the stuck-refund check sends an unsettled one again), so it stays pending
      return {
        status: 'pending',
        ...(answer.refund_amount === undefined ? {} : { amount: amountOf(answer, 'refund_amount', method) }),
        ...providerRefundId,
      };
    },

    acknowledge(outcome): Acknowledgement {
      // Alipay takes exactly the text `success`; anything else makes it retry (up to 8 times over 25 hours)
      return { status: 200, contentType: 'text/plain', body: outcome === 'ok' ? 'success' : 'fail' };
    },
  };

  async function verify(input: NotificationInput): Promise<VerifiedNotification> {
    let form: Record<string, string>;
    try {
      form = input.form ?? parseFormBody(input.rawBody.toString('utf8'));
    } catch {
      throw malformed('Alipay notification is not a form');
    }
    // Alipay's rule: empty values take no part in the signature; drop them so nothing unsigned is read
    const fields = Object.fromEntries(Object.entries(form).filter(([, v]) => v !== ''));
    const need = (name: string): string => {
      const value = fields[name];
      if (value === undefined) throw malformed(`Alipay notification has no ${name}`);
      return value;
    };
    // Node's base64 decoder skips junk after padding; only canonical base64 is a signature
    const sign = need('sign');
    if (sign.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(sign))
      throw malformed('Alipay notification sign is not base64');
    if (need('sign_type') !== 'RSA2') throw malformed('Alipay notification is not signed with RSA2');
    const sdk = await loaded('notification check');
    let signed = false;
    try {
      signed = sdk.checkNotifySignV2(fields);
    } catch {
      signed = false;
    }
    if (!signed)
      throw new NotificationError(
        NotificationErrors.badSignature,
        'Alipay notification signature does not match',
      );
    if (fields.charset !== undefined && fields.charset.toLowerCase() !== 'utf-8') {
      throw malformed('Alipay notification charset is not utf-8');
    }
    if (need('app_id') !== options.appId) {
      throw new NotificationError(NotificationErrors.wrongMerchant, 'Alipay notification is for another app');
    }
    if (options.sellerId !== undefined && fields.seller_id !== options.sellerId) {
      throw new NotificationError(
        NotificationErrors.wrongMerchant,
        'Alipay notification is for another seller',
      );
    }
    const tradeStatus = need('trade_status');
    const refundTime = fields.gmt_refund;
    let kind: NotificationKind;
    let when: string;
    if (refundTime !== undefined) {
      // a refund moves the trade (TRADE_SUCCESS after a partial refund, TRADE_CLOSED after a full one)
      kind = 'refund.succeeded';
      when = refundTime;
    } else if (PAID.has(tradeStatus)) {
      kind = 'payment.succeeded';
      when = fields.gmt_payment ?? need('notify_time');
    } else if (tradeStatus === CLOSED) {
      kind = 'payment.closed';
      when = fields.gmt_close ?? need('notify_time');
    } else {
      throw new NotificationError(
        NotificationErrors.unsupported,
        `Alipay notification for status ${tradeStatus}`,
      );
    }
    const occurredAt = parseChinaTime(when);
    if (!occurredAt) throw malformed('Alipay notification time is not yyyy-MM-dd HH:mm:ss');
    const base = {
      kind,
      notificationId: need('notify_id'),
      paymentId: need('out_trade_no'),
      providerTxnId: need('trade_no'),
      merchant: options.appId,
      occurredAt,
    };
    if (kind === 'refund.succeeded') {
      // Alipay states the payment's whole refunded total (refund_fee), not this refund's share
      return { ...base, amount: notifiedDecimal(need('refund_fee'), CURRENCY), refundId: need('out_biz_no') };
    }
    // buyer_open_id replaces buyer_id for apps that moved to OpenID; either names the payer
    const payer = fields.buyer_open_id || fields.buyer_id;
    return { ...base, amount: notifiedDecimal(need('total_amount'), CURRENCY), ...(payer ? { payer } : {}) };
  }
}
