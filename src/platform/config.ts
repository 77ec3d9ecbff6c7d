/**
 * The platform's settings: every environment variable the platform reads is declared here, parsed
 * once at start-up, and frozen. A bad value stops the process with one clear line per problem.
 * Each module declares its own settings in `<module>.settings.ts` (see ../modules/settings.ts).
 */

import { isIP } from 'node:net';
import type { SettingDescription } from './settings.js';

type Parser<T> = (raw: string) => T;

interface Setting<T> {
  env: string;
  description: string;
  parse: Parser<T>;
  /** Used when the variable is unset or empty. `undefined` means optional. */
  fallback?: T;
  /** Used when the variable is unset or empty and there is no `fallback`: derived from other settings. */
  derive?: (parsed: Readonly<Record<string, unknown>>) => T;
  /** Shown in .env.example and the README instead of the real fallback. */
  example?: string;
  secret?: boolean;
  /** Left unset, each process makes its own value: several instances must set one (see settings.ts). */
  sameOnEveryInstance?: boolean;
}

class ConfigValueError extends Error {}

const str: Parser<string> = (raw) => raw;

const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new ConfigValueError(`expected a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new ConfigValueError(`expected a number from ${min} to ${max}, got ${n}`);
    return n;
  };

const secretText =
  (minLength: number): Parser<string> =>
  (raw) => {
    if (raw.length < minLength) throw new ConfigValueError(`expected at least ${minLength} characters`);
    return raw;
  };

const bool: Parser<boolean> = (raw) => {
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigValueError(`expected true or false, got "${raw}"`);
};

/**
 * Whose X-Forwarded-* to believe: nobody (false), the proxies in front counted from this server
 * (true is one, nginx), or the proxies' addresses and CIDR ranges (`loopback`, `linklocal` and
 * `uniquelocal` name theirs), comma-separated. A count believes only the address that many hops
 * away, whatever a client wrote in the header before it.
 */
export type TrustProxy = false | number | string;

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isProxyAddress(entry: string): boolean {
  if (PROXY_NAMES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const trustProxy: Parser<TrustProxy> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (/^\d+$/.test(v)) return int(0, 16)(v) || false;
  if (['true', 'yes', 'on'].includes(v)) return 1;
  if (['false', 'no', 'off'].includes(v)) return false;
  const entries = v.split(',').map((e) => e.trim());
  if (!entries.every(isProxyAddress)) {
    throw new ConfigValueError(
      `expected true, false, a number of proxies, or their addresses or CIDR ranges, got "${raw}"`,
    );
  }
  return entries.join(',');
};

const url =
  (...protocols: string[]): Parser<string> =>
  (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigValueError('expected a URL');
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new ConfigValueError(`expected a ${protocols.join(' or ')} URL, got ${parsed.protocol}//…`);
    }
    return raw;
  };

/**
 * A name NATS accepts as one subject token or a stream name: no dots, wildcards or whitespace
 * (a dot would add a token to every subject, a wildcard would make publishes invalid).
 */
const natsName: Parser<string> = (raw) => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) {
    throw new ConfigValueError(`expected letters, digits, "_" or "-" (at most 64), got "${raw}"`);
  }
  return raw;
};

const list: Parser<string[]> = (raw) =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!(values as string[]).includes(raw))
      throw new ConfigValueError(`expected one of ${values.join(', ')}`);
    return raw as T;
  };

const settings = {
  port: { env: 'PORT', description: 'HTTP port', parse: int(0, 65535), fallback: 3000 },
  host: { env: 'HOST', description: 'Address to listen on', parse: str, fallback: '0.0.0.0' },
  publicUrl: {
    env: 'PUBLIC_URL',
    description: 'Address clients use to reach the API (links in mail, token issuer)',
    parse: url('http', 'https'),
    example: 'http://localhost:3000',
  },
  logLevel: {
    env: 'LOG_LEVEL',
    description: 'pino log level',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
    fallback: 'info',
  },
  dataDir: {
    env: 'DATA_DIR',
    description: 'Folder for the embedded database, local files and the mail outbox',
    parse: str,
    fallback: './data',
  },
  databaseUrl: {
    env: 'DATABASE_URL',
    description: 'PostgreSQL URL; unset means the embedded database (EMBEDDED_DB) in DATA_DIR',
    parse: url('postgres', 'postgresql'),
    example: 'postgres://lectern@127.0.0.1:5432/lectern',
    secret: true,
  },
  embeddedDb: {
    env: 'EMBEDDED_DB',
    description:
      'Database when DATABASE_URL is unset: postgres (PostgreSQL from the npm package, in DATA_DIR/postgres), pglite (in DATA_DIR/pg), or auto (postgres where it can run, else pglite)',
    parse: oneOf('auto', 'postgres', 'pglite'),
    fallback: 'auto' as const,
  },
  databaseReadUrl: {
    env: 'DATABASE_READ_URL',
    description: 'Optional read replica for read-only queries',
    parse: url('postgres', 'postgresql'),
    secret: true,
  },
  databasePoolSize: {
    env: 'DATABASE_POOL_SIZE',
    description: 'Connections per pool',
    parse: int(1, 200),
    fallback: 10,
  },
  redisUrl: {
    env: 'REDIS_URL',
    description: 'Redis URL for cache and rate limits; unset means in-memory',
    parse: url('redis', 'rediss'),
    example: 'redis://127.0.0.1:6379',
    secret: true,
  },
  redisKeyPrefix: {
    env: 'REDIS_KEY_PREFIX',
    description:
      'Prefix of every Redis key and channel (cache, rate limits, invalidations); separate deployments on one Redis use their own',
    parse: str,
    fallback: 'lectern:',
  },
  natsUrl: {
    env: 'NATS_URL',
    description: 'NATS server with JetStream; unset means an in-process bus',
    parse: url('nats', 'tls'),
    example: 'nats://127.0.0.1:4222',
    secret: true,
  },
  natsStream: {
    env: 'NATS_STREAM',
    description:
      'JetStream stream of the events; separate deployments on one NATS server use their own (with their own NATS_SUBJECT_PREFIX)',
    parse: natsName,
    fallback: 'LECTERN',
  },
  natsSubjectPrefix: {
    env: 'NATS_SUBJECT_PREFIX',
    description:
      'First token of every event subject (<prefix>.<module>.<event>); two streams may not share subjects, so each deployment has its own',
    parse: natsName,
    fallback: 'lectern',
  },
  smtpUrl: {
    env: 'SMTP_URL',
    description: 'SMTP URL for outgoing mail; unset means files in DATA_DIR/mail-outbox',
    parse: url('smtp', 'smtps'),
    example: 'smtp://user:pass@127.0.0.1:587',
    secret: true,
  },
  mailFrom: {
    env: 'MAIL_FROM',
    description: 'Sender address',
    parse: str,
    fallback: 'Lectern <no-reply@lectern.local>',
  },
  bodyLimit: {
    env: 'BODY_LIMIT_BYTES',
    description: 'Largest JSON body accepted',
    parse: int(1024, 100 * 1024 * 1024),
    fallback: 1024 * 1024,
  },
  rateLimitMax: {
    env: 'RATE_LIMIT_MAX',
    description: 'Requests per client per window',
    parse: int(1, 1_000_000),
    fallback: 300,
  },
  rateLimitWindowMs: {
    env: 'RATE_LIMIT_WINDOW_MS',
    description: 'Rate-limit window in milliseconds',
    parse: int(100, 86_400_000),
    fallback: 60_000,
  },
  corsOrigins: {
    env: 'CORS_ORIGINS',
    description: 'Comma-separated allowed browser origins; * for any',
    parse: list,
    fallback: ['*'],
    example: 'https://app.example.com',
  },
  trustProxy: {
    env: 'TRUST_PROXY',
    description:
      'Trust X-Forwarded-* from the proxy in front (true: one, nginx), from N proxies, or from these addresses/CIDRs',
    parse: trustProxy,
    // the assertion keeps the setting's type TrustProxy: a plain `false` widens it to boolean
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    fallback: false as TrustProxy,
  },
  shutdownTimeoutMs: {
    env: 'SHUTDOWN_TIMEOUT_MS',
    description: 'How long a stopping instance waits for in-flight requests',
    parse: int(0, 600_000),
    fallback: 10_000,
  },
  jwksUrl: {
    env: 'JWKS_URL',
    description: 'Where a split-out service fetches the identity JWKS; unset means in-process keys',
    parse: url('http', 'https'),
  },
  jwtIssuer: {
    env: 'JWT_ISSUER',
    description:
      '"iss" of access tokens and "issuer" of the OAuth metadata; unset means PUBLIC_URL, else http://localhost:PORT',
    parse: str,
    // RFC 8414 §3.3: the metadata's issuer is the URL it was fetched under, so one URL by default
    derive: (parsed) =>
      typeof parsed.publicUrl === 'string'
        ? parsed.publicUrl.replace(/\/+$/, '')
        : `http://localhost:${String(parsed.port)}`,
    example: 'http://localhost:3000',
  },
  jwtAudience: {
    env: 'JWT_AUDIENCE',
    description: 'Expected "aud" of access tokens',
    parse: str,
    fallback: 'lectern-api',
  },
  internalClientId: {
    env: 'INTERNAL_CLIENT_ID',
    description:
      'OAuth client (client_credentials, scope "internal") a split-out service uses to call other modules',
    parse: str,
  },
  internalClientSecret: {
    env: 'INTERNAL_CLIENT_SECRET',
    description: 'Secret of INTERNAL_CLIENT_ID',
    parse: str,
    secret: true,
  },
  internalTimeoutMs: {
    env: 'INTERNAL_TIMEOUT_MS',
    description: 'Timeout of one call to another module over HTTP',
    parse: int(100, 120_000),
    fallback: 5000,
  },
  internalRetries: {
    env: 'INTERNAL_RETRIES',
    description: 'Retries of a failed idempotent (GET) call to another module',
    parse: int(0, 10),
    fallback: 2,
  },
  internalBreakerFailures: {
    env: 'INTERNAL_BREAKER_FAILURES',
    description:
      'Calls in a row that find another module down (after retries) before calls to it fail at once (circuit breaker)',
    parse: int(1, 1000),
    fallback: 5,
  },
  internalBreakerResetMs: {
    env: 'INTERNAL_BREAKER_RESET_MS',
    description: 'How long an open circuit fails calls at once before one trial call is let through',
    parse: int(100, 600_000),
    fallback: 10_000,
  },
  s3Bucket: {
    env: 'S3_BUCKET',
    description: 'S3-compatible bucket for uploaded files; unset means DATA_DIR/files',
    parse: str,
    example: 'lectern-files',
  },
  s3Region: { env: 'S3_REGION', description: 'S3 region', parse: str, fallback: 'us-east-1' },
  s3Endpoint: {
    env: 'S3_ENDPOINT',
    description: 'Endpoint of an S3-compatible store (MinIO, OSS, COS); unset means AWS',
    parse: url('http', 'https'),
  },
  s3ForcePathStyle: {
    env: 'S3_FORCE_PATH_STYLE',
    description: 'Path-style bucket addressing (MinIO needs it)',
    parse: bool,
    fallback: false,
  },
  s3AccessKeyId: {
    env: 'S3_ACCESS_KEY_ID',
    description: 'S3 access key; unset uses the SDK default chain',
    parse: str,
    secret: true,
  },
  s3SecretAccessKey: { env: 'S3_SECRET_ACCESS_KEY', description: 'S3 secret key', parse: str, secret: true },
  s3Prefix: { env: 'S3_PREFIX', description: 'Prefix for every stored key', parse: str },
  seedDemo: {
    env: 'SEED_DEMO',
    description: 'Seed demo data on start when the database is empty',
    parse: bool,
    fallback: true,
  },
  debugResponseDelayMs: {
    env: 'DEBUG_RESPONSE_DELAY_MS',
    description:
      'Testing only: hold every answer (not the probes) this long, so a load-balancer test can slow one instance; leave at 0',
    parse: int(0, 10_000),
    fallback: 0,
  },
  metricsToken: {
    env: 'METRICS_TOKEN',
    description: 'Bearer token for /metrics (16+ characters); unset: only direct callers on this host',
    parse: secretText(16),
    secret: true,
  },
  outboxPollMs: {
    env: 'OUTBOX_POLL_MS',
    description: 'How often the relay looks for unpublished events',
    parse: int(10, 60_000),
    fallback: 250,
  },
  jobsPollMs: {
    env: 'JOBS_POLL_MS',
    description: 'How often an idle job worker looks for due jobs (pg-boss allows 500 at least)',
    parse: int(500, 60_000),
    fallback: 2000,
  },
  messagingRetentionDays: {
    env: 'MESSAGING_RETENTION_DAYS',
    description:
      'Days published outbox rows and inbox rows are kept before the housekeeping job deletes them; the JetStream stream keeps an event as long',
    parse: int(1, 3650),
    fallback: 7,
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof settings;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
export type Config = {
  readonly [K in keyof Settings]: Settings[K] extends { fallback: unknown } | { derive: unknown }
    ? ValueOf<Settings[K]>
    : ValueOf<Settings[K]> | undefined;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment. Throws ConfigError listing every bad value at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(settings) as [string, Setting<unknown>][]) {
    const raw = env[setting.env]?.trim();
    if (raw === undefined || raw === '') {
      out[key] = setting.fallback;
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (err) {
      const reason = err instanceof ConfigValueError ? err.message : String(err);
      // never echo a secret back into logs
      problems.push(`${setting.env}: ${setting.secret ? reason.replace(/".*"/, '(hidden)') : reason}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // after every plain value is known, so a derived one may read any of them
  for (const [key, setting] of Object.entries(settings) as [string, Setting<unknown>][]) {
    if (out[key] === undefined && setting.derive) out[key] = setting.derive(out);
  }
  return Object.freeze(out) as Config;
}

function exampleOf(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The settings table, for .env.example and the README. */
export function describeSettings(): SettingDescription[] {
  return Object.values(settings).map((s: Setting<unknown>) => ({
    env: s.env,
    description: s.description,
    // a derived value is left commented out: pinning it in a copied file would stop the derivation
    hasDefault: s.fallback !== undefined,
    example: s.example ?? exampleOf(s.fallback),
    secret: s.secret === true,
    sameOnEveryInstance: s.sameOnEveryInstance === true,
  }));
}
