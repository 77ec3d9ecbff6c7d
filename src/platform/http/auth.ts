import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { LRUCache } from 'lru-cache';
import { AppError } from '../errors.js';

/** Who is calling, as established from a verified access token. */
export interface Principal {
  /** User id, or the client id for client_credentials tokens. */
  subject: string;
  kind: 'user' | 'client';
  roles: string[];
  scopes: string[];
  clientId?: string;
  /** Refresh-token family the access token came from, when issued to a user session. */
  sessionId?: string;
  tokenId: string;
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** Algorithms accepted (RFC 8725 §3.1: an explicit allow-list, never `none`, never HMAC with a public key). */
export const ACCESS_TOKEN_ALGORITHMS = ['EdDSA', 'ES256'];
/** RFC 9068 access-token type, so an ID token or another JWT cannot be replayed as an access token (RFC 8725 §3.11). */
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface KeySource {
  /** Current public keys; called when a token names a key id not seen before. */
  keySet(): Promise<JSONWebKeySet>;
  /**
   * The same set when the source holds it in memory right now, or undefined (then `keySet()` is
   * called). The verifier reads the key set on every request: this spares it a promise chain.
   */
  knownKeySet?(): JSONWebKeySet | undefined;
}

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** In-process key source (identity module) or a remote JWKS URL (split deployment). */
  keys: KeySource | URL;
  /** Allowed clock skew in seconds. */
  clockTolerance?: number;
  /** Upper bound on token age regardless of its own exp, in seconds. */
  maxTokenAge?: number;
  /**
   * Extra check on a verified token (e.g. a revoked session); throw AppError to refuse. It runs on
   * every request, also when the token's signature check is skipped because it was verified before.
   * It may answer without a promise (return or throw) when it needs no I/O.
   */
  check?: (principal: Principal) => void | Promise<void>;
  /** Verified tokens remembered (least recently used dropped first); 0 checks every signature. */
  cacheSize?: number;
  /**
   * At most this long (ms) between two reads of the key set while tokens are answered from the
   * cache; a changed key set empties the cache. It bounds how long a token signed by a key that
   * was withdrawn still passes. Default 0: read on every request.
   */
  keyCheckMs?: number;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /**
   * The same answer as `verify`, as a plain value (or a synchronous throw) when it needs no I/O: a
   * remembered token, a key set and a check answered from memory. Guards call this on every
   * request; a promise per step would cost each one turns of the microtask queue.
   */
  principal(token: string): Principal | Promise<Principal>;
  /** Forget every verified token: the next request with each checks its signature again. */
  flush(): void;
}

/** The keys the verifier checks signatures with, and a fingerprint to notice when they change. */
interface Keys {
  getKey: JWTVerifyGetKey;
  /**
   * The current key set as text; undefined while a remote set has not been fetched yet. A plain
   * value when it is known without waiting.
   */
  fingerprint(): string | undefined | Promise<string | undefined>;
}

/** The same key objects in the same order: the source handed back its cached set unchanged. */
const sameKeys = (a: readonly unknown[], b: readonly unknown[]) =>
  a.length === b.length && a.every((key, i) => key === b[i]);

interface LocalSet {
  set: JSONWebKeySet;
  json: string;
  getKey: JWTVerifyGetKey;
}

function localKeys(source: KeySource): Keys {
  let cached: LocalSet | undefined;
  const use = (set: JSONWebKeySet): LocalSet => {
    // read on every guarded request: skip serialising a set whose key objects are the ones seen
    // last time (identity rebuilds them when its rows change, so a change still shows)
    if (cached && (cached.set === set || sameKeys(cached.set.keys, set.keys))) return cached;
    const json = JSON.stringify(set);
    if (cached?.json === json) cached.set = set;
    else cached = { set, json, getKey: createLocalJWKSet(set) };
    return cached;
  };
  const current = async () => use(source.knownKeySet?.() ?? (await source.keySet()));
  return {
    getKey: async (header, token) => (await current()).getKey(header, token),
    fingerprint: () => {
      const known = source.knownKeySet?.();
      return known ? use(known).json : current().then((keys) => keys.json);
    },
  };
}

function remoteKeys(url: URL): Keys {
  const remote = createRemoteJWKSet(url);
  return {
    getKey: remote,
    // jose refetches the set itself (unknown kid, or older than its cache age); this only looks
    fingerprint: () => {
      const set = remote.jwks();
      return set ? JSON.stringify(set) : undefined;
    },
  };
}

interface Verified {
  /** The whole token: an entry answers only the token it was verified for. */
  token: string;
  principal: Principal;
  /** Epoch ms after which the entry is not used: the token's exp, or sooner by maxTokenAge. */
  until: number;
}

const DEFAULT_CACHE_SIZE = 10_000;
// 192 bits of the signature: what finds an entry, not what proves it (see createTokenVerifier)
const CACHE_KEY_CHARS = 32;
const cacheKeyOf = (token: string) => token.slice(-CACHE_KEY_CHARS);
// every request: the key set is an in-memory read (identity caches its rows; jose caches a
// remote set), so a withdrawn key stops its tokens as soon as the set no longer lists it
const DEFAULT_KEY_CHECK_MS = 0;

function frozen(principal: Principal): Principal {
  // one object answers many requests: no handler may change what the next one sees
  Object.freeze(principal.roles);
  Object.freeze(principal.scopes);
  return Object.freeze(principal);
}

const stringArray = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === 'string')
    : typeof v === 'string'
      ? v.split(' ')
      : [];

/**
 * Verifies access tokens. A token whose signature and claims were verified is remembered until
 * its own `exp`, so a client that repeats its token costs a lookup instead of an Ed25519 check
 * (about 120–200 µs). Only tokens this verifier accepted are stored, so an entry is never larger
 * than a token the issuer signs. `check`, the revocation deny-list, still runs on every request,
 * so a disabled user or revoked session is refused on the next request either way.
 *
 * Entries are found by the token's last characters (its signature's) and used only when the
 * stored token equals the one presented, character for character: a Map hashes its key on every
 * lookup, and the token is a new 600-character string in every request (hashing it all cost about
 * as much as the rest of the lookup). Two tokens with the same last characters only take each
 * other's place. A token is checked against RFC 6750's syntax before its signature, on a miss: a
 * token equal to a remembered one passed that check when it was verified.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const keys = options.keys instanceof URL ? remoteKeys(options.keys) : localKeys(options.keys);
  const now = options.now ?? Date.now;
  const keyCheckMs = options.keyCheckMs ?? DEFAULT_KEY_CHECK_MS;
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  const cache = cacheSize > 0 ? new LRUCache<string, Verified>({ max: cacheSize }) : undefined;
  let fingerprint: string | undefined;
  let keysCheckedAt = Number.NEGATIVE_INFINITY;
  const invalid = (message: string) => AppError.unauthenticated('auth.invalid-token', message);

  /** Empty the cache when the key set is not the one its entries were verified with. */
  function checkKeys(at: number): Promise<void> | undefined {
    keysCheckedAt = at;
    const compare = (current: string | undefined) => {
      if (current !== fingerprint) {
        cache?.clear();
        fingerprint = current;
      }
    };
    const current = keys.fingerprint();
    if (typeof current === 'object') return current.then(compare);
    compare(current);
    return undefined;
  }

  async function verifySignature(token: string, at: number): Promise<Verified> {
    assertBearerSyntax(token);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys.getKey, {
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        issuer: options.issuer,
        audience: options.audience,
        typ: ACCESS_TOKEN_TYPE,
        requiredClaims: ['exp', 'iat', 'sub', 'jti'],
        clockTolerance: options.clockTolerance ?? 5,
        currentDate: new Date(at),
        ...(options.maxTokenAge ? { maxTokenAge: options.maxTokenAge } : {}),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw AppError.unauthenticated('auth.token-expired', 'The access token has expired.');
      throw invalid('The access token is not valid.');
    }
    const { sub, jti, exp, iat } = payload;
    if (!sub || !jti || exp === undefined) throw invalid('The access token is not valid.');
    const kind = payload.token_use === 'client' ? 'client' : 'user';
    const principal: Principal = frozen({
      subject: sub,
      kind,
      roles: stringArray(payload.roles),
      scopes: stringArray(payload.scope),
      tokenId: jti,
      expiresAt: exp,
      ...(typeof payload.client_id === 'string' ? { clientId: payload.client_id } : {}),
      ...(typeof payload.sid === 'string' ? { sessionId: payload.sid } : {}),
    });
    const maxAgeEnd =
      options.maxTokenAge && iat !== undefined
        ? (iat + options.maxTokenAge) * 1000
        : Number.POSITIVE_INFINITY;
    return { token, principal, until: Math.min(exp * 1000, maxAgeEnd) };
  }

  async function verifyAndRemember(
    cache: LRUCache<string, Verified>,
    token: string,
    at: number,
  ): Promise<Principal> {
    const entry = await verifySignature(token, at);
    // the signature check may have loaded a new key set: keep only entries verified with this one
    await checkKeys(at);
    if (at < entry.until) cache.set(cacheKeyOf(token), entry);
    return entry.principal;
  }

  function remembered(
    cache: LRUCache<string, Verified>,
    token: string,
    at: number,
  ): Principal | Promise<Principal> {
    const key = cacheKeyOf(token);
    const hit = cache.get(key);
    if (hit && hit.token === token) {
      if (at < hit.until) return hit.principal;
      cache.delete(key);
    }
    return verifyAndRemember(cache, token, at);
  }

  /** A remembered token answers without a promise when the key set is known in memory too. */
  function verified(token: string): Principal | Promise<Principal> {
    const at = now();
    if (!cache) return verifySignature(token, at).then((entry) => entry.principal);
    const keysChecked = at - keysCheckedAt >= keyCheckMs ? checkKeys(at) : undefined;
    return keysChecked ? keysChecked.then(() => remembered(cache, token, at)) : remembered(cache, token, at);
  }

  const { check } = options;
  /** The principal once `check` passed it: plain when the check answered without a promise. */
  const checked = (principal: Principal): Principal | Promise<Principal> => {
    const pending = check?.(principal);
    return pending ? pending.then(() => principal) : principal;
  };

  function principal(token: string): Principal | Promise<Principal> {
    const found = verified(token);
    return found instanceof Promise ? found.then(checked) : checked(found);
  }

  return {
    principal,
    async verify(token) {
      return principal(token);
    },
    flush() {
      cache?.clear();
    },
  };
}

/** RFC 6750's b64token, the credentials after "Bearer ". */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = 'bearer ';

/** "Bearer " in any ASCII case: what /^Bearer /i matches, without a case-insensitive regexp over the whole token. */
function startsWithBearer(header: string): boolean {
  // setting bit 5 lower-cases an ASCII letter and maps nothing else onto one (but NUL onto the space)
  for (let i = 0; i < BEARER.length - 1; i++) {
    if ((header.charCodeAt(i) | 0x20) !== BEARER.charCodeAt(i)) return false;
  }
  return header.charCodeAt(BEARER.length - 1) === 0x20;
}

/**
 * What follows "Bearer " in the Authorization header, unchecked ('' when the header is not of that
 * scheme), or undefined without the header. The verifier checks the syntax (assertBearerSyntax)
 * unless the token equals one it verified.
 */
function bearerCredentials(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const text = header.trim();
  return startsWithBearer(text) ? text.slice(BEARER.length) : '';
}

/**
 * RFC 6750's b64token: what the guard lets reach a module. No control character, space or
 * non-ASCII text gets through, which is why the text guard (text-guard.ts) leaves this header to it.
 */
function assertBearerSyntax(token: string): void {
  if (!B64TOKEN.test(token))
    throw AppError.unauthenticated('auth.malformed-authorization', 'Use "Authorization: Bearer <token>".');
}

/** `Authorization: Bearer <token>` (RFC 6750); anything else is treated as no credentials. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const token = bearerCredentials(request);
  if (token !== undefined) assertBearerSyntax(token);
  return token;
}

export interface GuardRequirement {
  /** At least one of these roles (users only). */
  roles?: string[];
  /** All of these scopes (client tokens); user tokens pass scope checks by role. */
  scopes?: string[];
  /** Allow client_credentials tokens on this route. Default: users only. */
  allowClients?: boolean;
  /**
   * Client_credentials tokens only (a module's internal routes): a user token, which passes scope
   * checks by role, is refused with this problem code.
   */
  clientsOnly?: string;
}

/** A route preHandler; it may answer itself by returning the reply. */
export type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * A route preHandler in Fastify's callback style: it calls `done` (with the refusal, if any), at
 * once when it needs no I/O, so a request it lets through costs no promise.
 */
export type CallbackPreHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
) => void;

export interface AuthGuard {
  verifier: TokenVerifier;
  /** preHandler: 401 without a valid token, 403 without the required role or scope. */
  require(requirement?: GuardRequirement): CallbackPreHandler;
  /** preHandler: sets request.principal when a valid token is present, never refuses anonymous callers. */
  optional(): CallbackPreHandler;
}

/** Why a verified caller may not use a route, or undefined when it may. */
function refusal(
  requirement: GuardRequirement,
  principal: Principal,
  reply: FastifyReply,
): AppError | undefined {
  if (requirement.clientsOnly && principal.kind !== 'client') {
    return AppError.forbidden(requirement.clientsOnly, 'This route is for internal service clients.');
  }
  if (principal.kind === 'client' && !requirement.allowClients && !requirement.clientsOnly) {
    return AppError.forbidden('auth.user-required', 'This route is for signed-in users, not client tokens.');
  }
  if (
    requirement.roles &&
    principal.kind === 'user' &&
    !requirement.roles.some((r) => principal.roles.includes(r))
  ) {
    return AppError.forbidden(
      'auth.role-required',
      `This route needs one of the roles: ${requirement.roles.join(', ')}.`,
    );
  }
  if (
    requirement.scopes &&
    principal.kind === 'client' &&
    !requirement.scopes.every((s) => principal.scopes.includes(s))
  ) {
    reply.header(
      'www-authenticate',
      `Bearer error="insufficient_scope", scope="${requirement.scopes.join(' ')}"`,
    );
    return AppError.forbidden(
      'auth.scope-required',
      `This route needs the scopes: ${requirement.scopes.join(' ')}.`,
    );
  }
  return undefined;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * The request's bearer token verified, handed to `settle` at once when there is nothing to wait
 * for (no token, or one verified before), so such a request costs no promise: `settle(undefined)`
 * without a token, `settle(principal)`, or `settle(undefined, refused)`. The verifier checks the
 * token's syntax, unless it equals one already verified.
 */
function verifyBearer(
  verifier: TokenVerifier,
  request: FastifyRequest,
  settle: (principal: Principal | undefined, refused?: Error) => void,
): void {
  let found: Principal | Promise<Principal> | undefined;
  try {
    const token = bearerCredentials(request);
    found = token === undefined ? undefined : verifier.principal(token);
  } catch (err) {
    settle(undefined, asError(err));
    return;
  }
  if (found instanceof Promise) {
    found.then(
      (principal) => {
        settle(principal);
      },
      (err: unknown) => {
        settle(undefined, asError(err));
      },
    );
  } else {
    settle(found);
  }
}

export function createAuthGuard(verifier: TokenVerifier): AuthGuard {
  return {
    verifier,
    require(requirement = {}) {
      return (request, reply, done) => {
        verifyBearer(verifier, request, (principal, refused) => {
          if (refused) {
            reply.header('www-authenticate', 'Bearer error="invalid_token"');
            done(refused);
          } else if (!principal) {
            reply.header('www-authenticate', 'Bearer');
            done(AppError.unauthenticated('auth.required', 'This route needs an access token.'));
          } else {
            request.principal = principal;
            done(refusal(requirement, principal, reply));
          }
        });
      };
    },
    optional() {
      return (request, _reply, done) => {
        verifyBearer(verifier, request, (principal, refused) => {
          if (principal) request.principal = principal;
          done(refused);
        });
      };
    },
  };
}
