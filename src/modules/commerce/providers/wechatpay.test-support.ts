import { createCipheriv, createSign, createVerify, type KeyObject, randomBytes } from 'node:crypto';
import { type FakeServer, type ReceivedRequest, startFakeServer } from './fake-server.test-support.js';

/**
 * WeChat Pay API v3 as its servers behave, for tests: notifications built and signed the way
 * WeChat Pay builds them, and an API on 127.0.0.1 that checks the merchant's request signature
 * and signs its answers. Written from the v3 rules, independently of the adapter.
 */

const sign = (message: string, key: KeyObject): string =>
  createSign('RSA-SHA256').update(message, 'utf8').sign(key, 'base64');

/** AEAD_AES_256_GCM as WeChat Pay uses it: base64 of ciphertext followed by the 16-byte tag. */
export function encryptResource(apiV3Key: string, plaintext: string, nonce: string, aad: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  return Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString(
    'base64',
  );
}

export interface WechatSigner {
  platformKey: KeyObject;
  platformSerial: string;
  apiV3Key: string;
}

/** The four Wechatpay-* headers over a body, as WeChat Pay sends them. */
export function signedHeaders(
  signer: Pick<WechatSigner, 'platformKey' | 'platformSerial'>,
  body: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const nonce = randomBytes(16).toString('hex');
  return {
    'wechatpay-timestamp': String(timestamp),
    'wechatpay-nonce': nonce,
    'wechatpay-serial': signer.platformSerial,
    'wechatpay-signature': sign(`${timestamp}\n${nonce}\n${body}\n`, signer.platformKey),
  };
}

/** A notification: the envelope with the encrypted resource, and its signature headers. */
export function buildNotification(
  signer: WechatSigner,
  event: {
    id?: string;
    eventType: string;
    originalType: string;
    resource: unknown;
    timestamp?: number;
    createTime?: string;
  },
): { headers: Record<string, string>; body: string } {
  const nonce = randomBytes(6).toString('hex');
  const aad = event.originalType;
  const body = JSON.stringify({
    id: event.id ?? `EV-${randomBytes(8).toString('hex')}`,
    create_time: event.createTime ?? '2026-03-01T18:00:01+08:00',
    resource_type: 'encrypt-resource',
    event_type: event.eventType,
    summary: '支付成功',
    resource: {
      original_type: event.originalType,
      algorithm: 'AEAD_AES_256_GCM',
      ciphertext: encryptResource(signer.apiV3Key, JSON.stringify(event.resource), nonce, aad),
      associated_data: aad,
      nonce,
    },
  });
  return {
    headers: { 'content-type': 'application/json', ...signedHeaders(signer, body, event.timestamp) },
    body,
  };
}

interface FakeTrade {
  request: Record<string, unknown>;
  transactionId: string;
  state: 'NOTPAY' | 'SUCCESS' | 'CLOSED';
  total: number;
  /** Refunds by `out_refund_no`; `status` is what the refund query answers (PROCESSING at first). */
  refunds: Map<
    string,
    { refund_id: string; refund: number; status: 'PROCESSING' | 'SUCCESS' | 'CLOSED' | 'ABNORMAL' }
  >;
}

export interface FakeWechatPay extends FakeServer {
  trades: Map<string, FakeTrade>;
  /** Requests whose Authorization checked, with their parsed JSON bodies. */
  verified: { method: string; url: string; body: unknown }[];
  /** Sign answers with this key instead of the platform key (a forged answer); undefined to stop. */
  forgeAnswers(key: KeyObject | undefined): void;
  /** Answer without the Wechatpay-* signature headers while true. */
  unsigned(on: boolean): void;
}

export async function startFakeWechatPay(options: {
  mchId: string;
  appId: string;
  mchSerial: string;
  mchPublicKey: KeyObject;
  platformKey: KeyObject;
  platformSerial: string;
  /** The API's clock, for its timestamp check and its answers' timestamps (a test that moves its clock passes it). */
  now?: () => Date;
}): Promise<FakeWechatPay> {
  const trades = new Map<string, FakeTrade>();
  const verified: FakeWechatPay['verified'] = [];
  const state: { forged?: KeyObject; unsigned?: boolean } = {};
  const nowSeconds = () => Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  let seq = 0;

  const reply = (status: number, payload?: unknown) => {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers = state.unsigned
      ? {}
      : signedHeaders(
          { platformKey: state.forged ?? options.platformKey, platformSerial: options.platformSerial },
          body,
          nowSeconds(),
        );
    return { status, headers: { 'content-type': 'application/json', ...headers }, body };
  };

  function authorized(request: ReceivedRequest): boolean {
    const header = request.headers.authorization ?? '';
    const m = /^WECHATPAY2-SHA256-RSA2048 (.+)$/.exec(header);
    if (!m?.[1]) return false;
    const fields: Record<string, string | undefined> = Object.fromEntries(
      [...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1] ?? '', x[2] ?? '']),
    );
    if (fields.mchid !== options.mchId || fields.serial_no !== options.mchSerial) return false;
    if (Math.abs(Number(fields.timestamp) - nowSeconds()) > 300) return false;
    const message = `${request.method}\n${request.url}\n${fields.timestamp}\n${fields.nonce_str}\n${request.body.toString('utf8')}\n`;
    return createVerify('RSA-SHA256')
      .update(message, 'utf8')
      .verify(options.mchPublicKey, fields.signature ?? '', 'base64');
  }

  function handle(request: ReceivedRequest) {
    if (!authorized(request)) return reply(401, { code: 'SIGN_ERROR', message: '签名错误' });
    const body: Record<string, unknown> =
      request.body.length > 0 ? (JSON.parse(request.body.toString()) as Record<string, unknown>) : {};
    verified.push({ method: request.method, url: request.url, body });
    const url = new URL(request.url, 'http://fake');
    if (request.method === 'POST' && url.pathname === '/v3/pay/transactions/native') {
      if (body.mchid !== options.mchId || body.appid !== options.appId) {
        return reply(400, { code: 'PARAM_ERROR', message: 'appid和mch_id不匹配' });
      }
      const outTradeNo = String(body.out_trade_no);
      trades.set(outTradeNo, {
        request: body,
        transactionId: `42000${String(++seq).padStart(23, '0')}`,
        state: 'NOTPAY',
        total: (body.amount as { total: number }).total,
        refunds: new Map(),
      });
      return reply(200, { code_url: `weixin://wxpay/bizpayurl?pr=fake${seq}` });
    }
    const queried = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'GET' && queried?.[1]) {
      if (url.searchParams.get('mchid') !== options.mchId)
        return reply(400, { code: 'PARAM_ERROR', message: 'mchid' });
      const trade = trades.get(decodeURIComponent(queried[1]));
      if (!trade) return reply(404, { code: 'ORDER_NOT_EXIST', message: '订单不存在' });
      return reply(200, {
        appid: options.appId,
        mchid: options.mchId,
        out_trade_no: decodeURIComponent(queried[1]),
        transaction_id: trade.transactionId,
        trade_type: 'NATIVE',
        trade_state: trade.state,
        trade_state_desc: trade.state,
        amount: { total: trade.total, payer_total: trade.total, currency: 'CNY', payer_currency: 'CNY' },
      });
    }
    if (request.method === 'POST' && url.pathname === '/v3/refund/domestic/refunds') {
      const trade = trades.get(String(body.out_trade_no));
      if (!trade) return reply(404, { code: 'RESOURCE_NOT_EXISTS', message: '订单不存在' });
      const amount = body.amount as { refund: number; total: number; currency: string };
      const outRefundNo = String(body.out_refund_no);
      let refund = trade.refunds.get(outRefundNo);
      if (!refund) {
        if (trade.state !== 'SUCCESS') return reply(403, { code: 'TRADE_NOT_PAID', message: '订单未支付' });
        if (amount.total !== trade.total)
          return reply(400, { code: 'PARAM_ERROR', message: '订单金额不匹配' });
        const refunded = [...trade.refunds.values()].reduce((s, r) => s + r.refund, 0);
        if (refunded + amount.refund > trade.total)
          return reply(403, { code: 'NOT_ENOUGH', message: '退款金额超过可退金额' });
        refund = {
          refund_id: `50300${String(++seq).padStart(24, '0')}`,
          refund: amount.refund,
          status: 'PROCESSING',
        };
        trade.refunds.set(outRefundNo, refund);
      }
      return reply(200, {
        refund_id: refund.refund_id,
        out_refund_no: outRefundNo,
        transaction_id: trade.transactionId,
        out_trade_no: String(body.out_trade_no),
        status: refund.status,
        amount: { total: trade.total, refund: refund.refund, currency: 'CNY' },
      });
    }
    const refundQueried = /^\/v3\/refund\/domestic\/refunds\/([^/]+)$/.exec(url.pathname);
    if (request.method === 'GET' && refundQueried?.[1]) {
      const outRefundNo = decodeURIComponent(refundQueried[1]);
      for (const [outTradeNo, trade] of trades) {
        const refund = trade.refunds.get(outRefundNo);
        if (!refund) continue;
        return reply(200, {
          refund_id: refund.refund_id,
          out_refund_no: outRefundNo,
          transaction_id: trade.transactionId,
          out_trade_no: outTradeNo,
          channel: 'ORIGINAL',
          user_received_account: '支付用户零钱',
          ...(refund.status === 'SUCCESS' ? { success_time: '2026-03-02T09:00:00+08:00' } : {}),
          create_time: '2026-03-02T08:59:00+08:00',
          status: refund.status,
          funds_account: 'AVAILABLE',
          amount: {
            total: trade.total,
            refund: refund.refund,
            payer_total: trade.total,
            payer_refund: refund.refund,
            settlement_refund: refund.refund,
            settlement_total: trade.total,
            discount_refund: 0,
            currency: 'CNY',
          },
        });
      }
      return reply(404, { code: 'RESOURCE_NOT_EXISTS', message: '退款单不存在' });
    }
    return reply(404, { code: 'NOT_FOUND', message: 'no such API' });
  }

  const server = await startFakeServer(handle);
  return {
    ...server,
    trades,
    verified,
    forgeAnswers: (key) => {
      state.forged = key;
    },
    unsigned: (on) => {
      state.unsigned = on;
    },
  };
}
