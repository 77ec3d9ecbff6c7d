import { createSign, createVerify, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type FakeServer, type ReceivedRequest, startFakeServer } from './fake-server.test-support.js';
import { parseChinaTime } from './provider-time.js';

/**
 * Alipay as its servers behave, for tests: its signing rules written out independently of the
 * SDK the adapter uses, and a gateway on 127.0.0.1 that checks request signatures and answers
 * signed, so a disagreement between the SDK and the documented rules would show.
 */

export interface RsaPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

export function rsaPair(): RsaPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
  };
}

/**
 * Alipay's content to sign: every parameter but `sign` (and, for notifications, `sign_type`)
 * with a non-empty value, sorted by name, as `name=value` joined by `&`, values not encoded.
 */
export function signContent(params: Record<string, string>, forNotification: boolean): string {
  return Object.keys(params)
    .filter((k) => k !== 'sign' && !(forNotification && k === 'sign_type') && params[k] !== '')
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
}

export const rsa2Sign = (content: string, key: KeyObject): string =>
  createSign('RSA-SHA256').update(content, 'utf8').sign(key, 'base64');

export const rsa2Verify = (content: string, signature: string, key: KeyObject): boolean =>
  createVerify('RSA-SHA256').update(content, 'utf8').verify(key, signature, 'base64');

/** A notification form as Alipay posts it, signed with Alipay's key. */
export function signNotification(
  fields: Record<string, string>,
  alipayKey: KeyObject,
): Record<string, string> {
  const form = { sign_type: 'RSA2', ...fields };
  return { ...form, sign: rsa2Sign(signContent(form, true), alipayKey) };
}

export const formBody = (form: Record<string, string>): Buffer =>
  Buffer.from(new URLSearchParams(form).toString());

interface FakeTrade {
  outTradeNo: string;
  tradeNo: string;
  totalAmount: string;
  status: 'WAIT_BUYER_PAY' | 'TRADE_SUCCESS' | 'TRADE_CLOSED';
  /** Refunds by `out_request_no`, with their amount. */
  refunds: Map<string, string>;
  /** Refund requests received but not done: the refund query answers them without `refund_status`. */
  unfinished: Set<string>;
}

export interface FakeAlipay extends FakeServer {
  gatewayUrl: string;
  trades: Map<string, FakeTrade>;
  /** Requests whose signature and app id checked, with their parameters. */
  verified: Record<string, string>[];
  /** Sign answers with this key instead of Alipay's (forged answers); undefined to stop. */
  forgeAnswers(key: KeyObject | undefined): void;
  /** Answer without `sign` while true. */
  unsigned(on: boolean): void;
  /** Methods the gateway answers with HTTP 502 (an outage of one API), e.g. `alipay.trade.refund`. */
  outage: Set<string>;
  /** Methods answered, signed, with code 20000 / ACQ.SYSTEM_ERROR (Alipay's own trouble: call again). */
  systemError: Set<string>;
}

/** A gateway that plays alipay.trade.precreate / query / refund / fastpay.refund.query. */
export async function startFakeAlipay(options: {
  appId: string;
  appPublicKey: KeyObject;
  alipay: RsaPair;
  /** The gateway's clock, for its timestamp check (a test that moves its clock passes it). */
  now?: () => Date;
}): Promise<FakeAlipay> {
  const trades = new Map<string, FakeTrade>();
  const verified: Record<string, string>[] = [];
  const outage = new Set<string>();
  const systemError = new Set<string>();
  const now = options.now ?? (() => new Date());
  let seq = 0;
  // read when answering, so a test can switch to forged answers on the running server
  const state: { signAnswersWith?: KeyObject; unsigned?: boolean } = {};

  const answer = (method: string, body: Record<string, unknown>) => {
    const key = `${method.replaceAll('.', '_')}_response`;
    const json = JSON.stringify(body);
    const sign = rsa2Sign(json, state.signAnswersWith ?? options.alipay.privateKey);
    if (state.unsigned) {
      return {
        status: 200,
        headers: { 'content-type': 'text/html;charset=utf-8' },
        body: `{"${key}":${json}}`,
      };
    }
    // the exact layout Alipay uses: the signed JSON text sits verbatim in the answer
    return {
      status: 200,
      headers: { 'content-type': 'text/html;charset=utf-8' },
      body: `{"${key}":${json},"sign":"${sign}"}`,
    };
  };

  function handle(request: ReceivedRequest) {
    const params = Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
    const method = params.method ?? '';
    const badSign =
      params.app_id !== options.appId ||
      params.sign_type !== 'RSA2' ||
      params.charset !== 'utf-8' ||
      !params.sign ||
      !rsa2Verify(signContent(params, false), params.sign, options.appPublicKey);
    if (badSign) {
      return answer(method, {
        code: '40002',
        msg: 'Invalid Arguments',
        sub_code: 'isv.invalid-signature',
        sub_msg: 'bad signature',
      });
    }
    const sentAt = parseChinaTime(params.timestamp ?? '');
    if (!sentAt || Math.abs(sentAt.getTime() - now().getTime()) > 15 * 60_000) {
      return answer(method, { code: '40002', msg: 'Invalid Arguments', sub_code: 'isv.invalid-timestamp' });
    }
    verified.push(params);
    if (outage.has(method)) return { status: 502, body: 'Bad Gateway' };
    if (systemError.has(method)) {
      return answer(method, {
        code: '20000',
        msg: 'Service Currently Unavailable',
        sub_code: 'ACQ.SYSTEM_ERROR',
        sub_msg: '系统错误',
      });
    }
    const biz = JSON.parse(params.biz_content ?? '{}') as Record<string, string>;
    const trade = trades.get(biz.out_trade_no ?? '');
    const notExist = {
      code: '40004',
      msg: 'Business Failed',
      sub_code: 'ACQ.TRADE_NOT_EXIST',
      sub_msg: '交易不存在',
    };
    switch (method) {
      case 'alipay.trade.precreate': {
        const outTradeNo = biz.out_trade_no ?? '';
        trades.set(outTradeNo, {
          outTradeNo,
          tradeNo: `2026${String(++seq).padStart(24, '0')}`,
          totalAmount: biz.total_amount ?? '',
          status: 'WAIT_BUYER_PAY',
          refunds: new Map(),
          unfinished: new Set(),
        });
        return answer(method, {
          code: '10000',
          msg: 'Success',
          out_trade_no: outTradeNo,
          qr_code: `https://qr.alipay.com/bax0${seq}`,
        });
      }
      case 'alipay.trade.query':
        if (!trade) return answer(method, notExist);
        return answer(method, {
          code: '10000',
          msg: 'Success',
          out_trade_no: trade.outTradeNo,
          trade_no: trade.tradeNo,
          trade_status: trade.status,
          total_amount: trade.totalAmount,
        });
      case 'alipay.trade.refund': {
        if (!trade) return answer(method, notExist);
        const cents = (s: string) => Math.round(Number(s) * 100);
        const requestNo = biz.out_request_no ?? '';
        const repeat = trade.refunds.has(requestNo);
        const already = [...trade.refunds.values()].reduce((sum, v) => sum + cents(v), 0);
        if (!repeat) {
          if (trade.status !== 'TRADE_SUCCESS')
            return answer(method, {
              code: '40004',
              msg: 'Business Failed',
              sub_code: 'ACQ.TRADE_STATUS_ERROR',
            });
          if (already + cents(biz.refund_amount ?? '0') > cents(trade.totalAmount)) {
            return answer(method, {
              code: '40004',
              msg: 'Business Failed',
              sub_code: 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL',
            });
          }
          trade.refunds.set(requestNo, biz.refund_amount ?? '0');
        }
        const total = [...trade.refunds.values()].reduce((sum, v) => sum + cents(v), 0);
        return answer(method, {
          code: '10000',
          msg: 'Success',
          out_trade_no: trade.outTradeNo,
          trade_no: trade.tradeNo,
          fund_change: repeat ? 'N' : 'Y',
          refund_fee: (total / 100).toFixed(2),
        });
      }
      case 'alipay.trade.fastpay.refund.query': {
        if (!trade) return answer(method, notExist);
        const requestNo = biz.out_request_no ?? '';
        const amount = trade.refunds.get(requestNo);
        const found = {
          code: '10000',
          msg: 'Success',
          out_trade_no: trade.outTradeNo,
          trade_no: trade.tradeNo,
        };
        // code 10000 says the query ran; no out_request_no in the answer: no such refund
        if (amount === undefined) return answer(method, found);
        return answer(method, {
          ...found,
          out_request_no: requestNo,
          total_amount: trade.totalAmount,
          refund_amount: amount,
          ...(trade.unfinished.has(requestNo) ? {} : { refund_status: 'REFUND_SUCCESS' }),
        });
      }
      default:
        return answer(method, { code: '40004', msg: 'Business Failed', sub_code: 'isv.invalid-method' });
    }
  }

  const server = await startFakeServer(handle);
  return {
    ...server,
    gatewayUrl: `${server.url}/gateway.do`,
    trades,
    verified,
    forgeAnswers: (key) => {
      state.signAnswersWith = key;
    },
    unsigned: (on) => {
      state.unsigned = on;
    },
    outage,
    systemError,
  };
}
