import { IncomingMessage, type ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * The API serves JSON; only the docs page needs scripts, and swagger-ui sets its own policy.
 * These options are static (no per-request CSP function, no nonces), which is what lets the
 * headers be computed once.
 */
export const securityHeaderOptions: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  crossOriginResourcePolicy: { policy: 'same-site' },
};

/**
 * The headers helmet sets for these options, computed once by running its middleware against a
 * recording response. `@fastify/helmet` builds helmet's whole middleware chain (and parses the
 * CSP directives) on every request, for headers that never change.
 */
export function securityHeaders(
  options: Readonly<HelmetOptions> = securityHeaderOptions,
): [string, string][] {
  const headers = new Map<string, [string, string]>();
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.set(name.toLowerCase(), [name, String(value)]);
      return recorder;
    },
    removeHeader(name: string) {
      headers.delete(name.toLowerCase());
    },
  };
  // helmet's middlewares only call setHeader/removeHeader on the response and never read the request
  helmet({ ...options })(
    new IncomingMessage(new Socket()),
    recorder as unknown as ServerResponse,
    (err?: unknown) => {
      if (err) throw err instanceof Error ? err : new Error('helmet refused its options');
    },
  );
  return [...headers.values()];
}
