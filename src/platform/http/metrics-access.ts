import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { type Problem, problem } from './problem.js';

/**
 * Who may read /metrics on the API port. With METRICS_TOKEN set: a caller presenting it as a
 * bearer token (Prometheus' `authorization` setting). Without it: only a direct caller on this
 * host (loopback address, no proxy header), so a local operator can `curl localhost:3000/metrics`
 * while nothing reaches it through nginx or from outside.
 */
export function metricsAccess(request: FastifyRequest, token: string | undefined): Problem | undefined {
  if (token) {
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (given && sameSecret(given, token)) return undefined;
    return problem(401, 'metrics.token-required', 'Send the metrics token as a bearer token.');
  }
  const address = request.socket.remoteAddress ?? '';
  const loopback = address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  const proxied = ['x-forwarded-for', 'forwarded', 'x-real-ip'].some((h) => request.headers[h] !== undefined);
  if (loopback && !proxied) return undefined;
  // 404, not 403: to the outside the endpoint does not exist until an operator sets a token
  return problem(404, 'request.no-such-route', `No route ${request.method} /metrics.`);
}

/** Compare digests so neither the length nor the content of the secret leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
