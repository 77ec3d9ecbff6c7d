import http from 'node:http';
import https from 'node:https';
import { PROVIDER_CALL_TIMEOUT_MS } from './provider.js';
import type { SandboxNotification } from './sandbox.provider.js';

// keep-alive, as a provider's sender would hold its connection to a busy merchant
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

/**
 * POST a sandbox notification to its notify URL and answer the response's status, the body read
 * and dropped. node:http rather than fetch: the sandbox posts once per payment from inside the
 * server it pays, and fetch's web streams cost it more than the rest of a payment's simulation.
 */
export function postNotification(notification: SandboxNotification): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(notification.notifyUrl);
    const secure = url.protocol === 'https:';
    const request = (secure ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...notification.headers, 'content-length': Buffer.byteLength(notification.body) },
        agent: secure ? agents.https : agents.http,
        signal: AbortSignal.timeout(PROVIDER_CALL_TIMEOUT_MS),
      },
      (response) => {
        response.on('error', reject);
        response.on('end', () => {
          resolve(response.statusCode ?? 0);
        });
        response.resume();
      },
    );
    request.on('error', reject);
    request.end(notification.body);
  });
}
