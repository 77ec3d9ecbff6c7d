// Shared by this module's tests only.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { vi } from 'vitest';
import { ConfigError } from '../../platform/config.js';
import { redactedPaths } from '../../platform/observability/logger.js';
import { parseSettings } from '../../platform/settings.js';
import type { MailMessage, Mailer } from '../../platform/mail/mailer.js';
import { buildTestApp, type TestApp } from '../../../test/helpers/app.js';
import type { Clock } from './context.js';
import { buildIdentity, type Identity } from './identity.module.js';
import { IdentitySettings } from './identity.settings.js';
import { hashPassword } from './passwords.js';

export interface CapturingMailer extends Mailer {
  sent: MailMessage[];
  /** The first mail to `to` whose subject matches, waiting for the background send. */
  next(to: string, subject: RegExp): Promise<MailMessage>;
}

export function capturingMailer(): CapturingMailer {
  const sent: MailMessage[] = [];
  return {
    kind: 'folder',
    sent,
    send(message) {
      sent.push(message);
      return Promise.resolve({ id: randomUUID() });
    },
    close: () => Promise.resolve(),
    describe: () => 'capturing test mailer',
    async next(to, subject) {
      const found = await vi.waitFor(
        () => {
          const mail = sent.find((m) => m.to === to && subject.test(m.subject));
          if (!mail) throw new Error(`no mail to ${to} matching ${String(subject)}`);
          return mail;
        },
        { timeout: 5000, interval: 10 },
      );
      sent.splice(sent.indexOf(found), 1);
      return found;
    },
  };
}

/** Real time plus an offset the test moves forward: expiries without sleeping. */
export interface MovableClock extends Clock {
  advance(seconds: number): void;
}

export function movableClock(): MovableClock {
  let offsetMs = 0;
  const clock = (() => new Date(Date.now() + offsetMs)) as MovableClock;
  clock.advance = (seconds) => {
    offsetMs += seconds * 1000;
  };
  return clock;
}

/** The token a mail carries (`Or paste this code into the app: <token>`). */
export function tokenIn(mail: MailMessage): string {
  const match = /code into the app: (\S+)/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no token in mail: ${mail.text}`);
  return match[1];
}

export interface IdentityTestApp {
  app: TestApp;
  /** Every log line the app wrote (debug and up), to prove secrets never reach it. */
  logs: string[];
  identity: Identity;
  mailer: CapturingMailer;
  clock: MovableClock;
  /** Insert a verified account directly (no mail round-trip) and return its id. */
  createUser(input?: { email?: string; password?: string; roles?: string[]; displayName?: string }): Promise<{
    id: string;
    email: string;
    password: string;
  }>;
  /** Sign in through the JSON endpoint; returns the token set. */
  login(email: string, password: string, ip?: string): Promise<{ accessToken: string; refreshToken: string }>;
  bearer(token: string): { authorization: string };
}

/**
 * `env` holds platform settings and identity's own (read as the registry reads them);
 * IDENTITY_KEY_SECRET defaults to a test secret.
 */
export async function startIdentityApp(
  options: { env?: Record<string, string>; dataExportParts?: readonly string[] } = {},
): Promise<IdentityTestApp> {
  const settings = parseSettings(IdentitySettings, options.env ?? {});
  if (settings.problems.length > 0) throw new ConfigError(settings.problems);
  const mailer = capturingMailer();
  const clock = movableClock();
  const logs: string[] = [];
  const logger = pino(
    { level: 'debug', redact: { paths: redactedPaths, censor: '[redacted]' } },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  let identity: Identity | undefined;
  const app = await buildTestApp(
    (platform) => {
      identity = buildIdentity(platform, {
        clock,
        keyEncryptionSecret: settings.values.IDENTITY_KEY_SECRET ?? 'test-secret-for-sealing-keys',
        previousKeyEncryptionSecrets: settings.values.IDENTITY_KEY_SECRET_PREVIOUS,
        dataExportParts: options.dataExportParts,
      });
      return [identity.module];
    },
    {
      keys: () => {
        if (!identity) throw new Error('identity module not built yet');
        return identity.api.keys;
      },
      platform: { mailer, logger },
      // the platform limiter would otherwise cut a long test file short
      env: { RATE_LIMIT_MAX: '100000', ...options.env },
    },
  );
  if (!identity) throw new Error('identity module not built');
  const built = identity;

  return {
    app,
    logs,
    identity: built,
    mailer,
    clock,
    async createUser(input = {}) {
      const email = input.email ?? `user-${randomUUID()}@example.com`;
      const password = input.password ?? 'plum-harbour-kettle-91';
      const row = await built.db
        .insertInto('identity.users')
        .values({
          email,
          display_name: input.displayName ?? 'Test User',
          password_hash: await hashPassword(password),
          roles: input.roles ?? ['learner'],
          email_verified_at: new Date(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: row.id, email, password };
    },
    async login(email, password, ip = '127.0.0.1') {
      const res = await app.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password },
        remoteAddress: ip,
      });
      if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
      const body = res.json<{ status: string; accessToken: string; refreshToken: string }>();
      if (body.status !== 'authenticated') throw new Error(`login needs more: ${res.body}`);
      return { accessToken: body.accessToken, refreshToken: body.refreshToken };
    },
    bearer: (token) => ({ authorization: `Bearer ${token}` }),
  };
}
