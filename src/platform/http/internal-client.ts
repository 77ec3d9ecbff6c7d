import { ConsecutiveBreaker, circuitBreaker, handleWhen, isBrokenCircuitError } from 'cockatiel';
import { AppError, type ErrorKind, statusOfKind } from '../errors.js';

/**
 * HTTP calls from one module to another module's internal routes when the two run in different
 * processes. The owning module maps its API onto these calls (`<module>.api.ts`), so callers see
 * the same TypeScript interface in-process or over HTTP.
 */
export interface InternalClient {
  /** GET a JSON answer; 404 is `undefined` (the API's "no such thing"). Retried with backoff. */
  find<T>(path: string, query?: Record<string, string>): Promise<T | undefined>;
  /** GET a JSON answer that must exist: 404 is an AppError like every other problem. Retried. */
  get<T>(path: string, query?: Record<string, string>): Promise<T>;
  /** A call that changes something: never retried (it may have happened). */
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

/** Where a bearer token comes from; `refresh` drops a cached token the server refused. */
export interface AccessTokenSource {
  token(): Promise<string>;
  refresh(): void;
}

export interface InternalClientOptions {
  /** The owning module's service, e.g. IDENTITY_URL (`http://identity:3000`). */
  baseUrl: string;
  tokens: AccessTokenSource;
  /** One attempt's timeout. */
  timeoutMs: number;
  /** Extra attempts of a GET that failed on the network, timed out, or got 502/503/504/429. */
  retries: number;
  /** First backoff; doubles per attempt, with jitter. */
  backoffMs?: number;
  /**
   * Circuit breaker of this client (one per owning service): after `failures` calls in a row that
   * found the service down (no answer, timeout, 502/503/504 after retries), calls fail at once
   * for `halfOpenAfterMs`; then one trial call decides whether it closes again.
   */
  breaker?: { failures: number; halfOpenAfterMs: number };
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Answers that say the service is down rather than that the call was wrong: they trip the breaker. */
const DOWN_STATUS = new Set([502, 503, 504]);

const kindOfStatus = (status: number): ErrorKind =>
  (Object.entries(statusOfKind) as [ErrorKind, number][]).find(([, s]) => s === status)?.[0] ??
  (status >= 500 ? 'unavailable' : 'validation');

/** problem+json back to the AppError the owning module threw. */
async function errorOf(response: Response, what: string): Promise<AppError> {
  let problem: { code?: unknown; detail?: unknown; title?: unknown } = {};
  try {
    problem = (await response.json()) as typeof problem;
  } catch {
    // not JSON: keep the status only
  }
  const code = typeof problem.code === 'string' ? problem.code : `internal.http-${response.status}`;
  const message =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof problem.title === 'string'
        ? problem.title
        : `${what} answered ${response.status}`;
  return new AppError(kindOfStatus(response.status), code, message);
}

const unavailable = (what: string, reason: string) =>
  new AppError('unavailable', 'internal.unavailable', `${what} is unavailable: ${reason}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createInternalClient(options: InternalClientOptions): InternalClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const backoffMs = options.backoffMs ?? 100;

  async function once(method: string, path: string, query?: Record<string, string>, body?: unknown) {
    const url = new URL(`${base}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const attempt = async () =>
      fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${await options.tokens.token()}`,
          accept: 'application/json, application/problem+json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    let response = await attempt();
    if (response.status === 401) {
      // a token revoked or rotated away before its expiry: fetch a new one once
      await response.body?.cancel();
      options.tokens.refresh();
      response = await attempt();
    }
    return response;
  }

  // cockatiel's breaker (half-open trial calls included) rather than a hand-kept counter; a thrown
  // "unavailable" and a final 502/503/504 count as failures, any other answer as a success
  const breakerOptions = options.breaker ?? { failures: 5, halfOpenAfterMs: 10_000 };
  const breaker = circuitBreaker(
    handleWhen((err) => err instanceof AppError && err.code === 'internal.unavailable').orWhenResult(
      (r) => r instanceof Response && DOWN_STATUS.has(r.status),
    ),
    {
      breaker: new ConsecutiveBreaker(breakerOptions.failures),
      halfOpenAfter: breakerOptions.halfOpenAfterMs,
    },
  );

  async function call(
    method: string,
    path: string,
    query: Record<string, string> | undefined,
    body: unknown,
  ): Promise<Response> {
    try {
      return await breaker.execute(() => withRetries(method, path, query, body));
    } catch (err) {
      if (!isBrokenCircuitError(err)) throw err;
      throw new AppError(
        'unavailable',
        'internal.circuit-open',
        `${method} ${path} was not sent: ${base} failed ${breakerOptions.failures} calls in a row; trying again shortly`,
      );
    }
  }

  async function withRetries(
    method: string,
    path: string,
    query: Record<string, string> | undefined,
    body: unknown,
  ): Promise<Response> {
    const what = `${method} ${path}`;
    const attempts = method === 'GET' ? options.retries + 1 : 1;
    for (let attempt = 1; ; attempt += 1) {
      let response: Response | undefined;
      let failure: string;
      try {
        response = await once(method, path, query, body);
        if (!RETRYABLE_STATUS.has(response.status)) return response;
        failure = `status ${response.status}`;
      } catch (err) {
        if (err instanceof AppError) throw err;
        failure =
          err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')
            ? `no answer within ${options.timeoutMs} ms`
            : err instanceof Error
              ? err.message
              : String(err);
      }
      if (attempt >= attempts) {
        if (response) return response;
        throw unavailable(what, failure);
      }
      await response?.body?.cancel();
      await sleep(backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
    }
  }

  async function json<T>(response: Response, what: string): Promise<T> {
    if (!response.ok) throw await errorOf(response, what);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  return {
    async find<T>(path: string, query?: Record<string, string>) {
      const response = await call('GET', path, query, undefined);
      if (response.status === 404) {
        await response.body?.cancel();
        return undefined;
      }
      return json<T>(response, `GET ${path}`);
    },
    async get<T>(path: string, query?: Record<string, string>) {
      return json<T>(await call('GET', path, query, undefined), `GET ${path}`);
    },
    async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown) {
      return json<T>(await call(method, path, undefined, body), `${method} ${path}`);
    },
  };
}

export interface ClientCredentialsOptions {
  /** The token endpoint, e.g. `${IDENTITY_URL}/oauth/token`. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  timeoutMs: number;
  /** Fetch a new token this long before the cached one expires. */
  refreshBeforeSeconds?: number;
  now?: () => number;
}

/**
 * An OAuth 2.0 client_credentials access token (RFC 6749 §4.4), cached until shortly before it
 * expires; concurrent callers share one request for it.
 */
export function clientCredentialsTokens(options: ClientCredentialsOptions): AccessTokenSource {
  const now = options.now ?? Date.now;
  const margin = (options.refreshBeforeSeconds ?? 30) * 1000;
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  async function fetchToken(): Promise<string> {
    const basic = Buffer.from(
      `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
    ).toString('base64');
    let response: Response;
    try {
      response = await fetch(options.tokenUrl, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope }).toString(),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (err) {
      throw unavailable('the token endpoint', err instanceof Error ? err.message : String(err));
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new AppError(
        'unavailable',
        'internal.token-refused',
        `the token endpoint refused the internal client (${response.status})`,
      );
    }
    const answer = (await response.json()) as { access_token?: unknown; expires_in?: unknown };
    if (typeof answer.access_token !== 'string') throw unavailable('the token endpoint', 'no access_token');
    const lifetimeMs = (typeof answer.expires_in === 'number' ? answer.expires_in : 60) * 1000;
    cached = { token: answer.access_token, renewAt: now() + Math.max(lifetimeMs - margin, lifetimeMs / 2) };
    return answer.access_token;
  }

  return {
    token() {
      if (cached && now() < cached.renewAt) return Promise.resolve(cached.token);
      pending ??= fetchToken().finally(() => {
        pending = undefined;
      });
      return pending;
    },
    refresh() {
      cached = undefined;
    },
  };
}
