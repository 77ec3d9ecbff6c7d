import { createTokenVerifier } from '../../platform/http/auth.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import { createAccounts } from './accounts.service.js';
import { adminRoutes } from './admin.routes.js';
import { createAdmin } from './admin.service.js';
import { createAuditLog } from './audit.service.js';
import { createClosure } from './closure.service.js';
import { dataExportRoutes } from './data-exports.routes.js';
import { createDataExports } from './data-exports.service.js';
import { createIdentityApi, type IdentityApi } from './identity.api.js';
import { authRoutes } from './auth.routes.js';
import { identityBench } from './bench.js';
import { type Clock, systemClock } from './context.js';
import { createSecretBox } from './crypto.js';
import { identityHooks } from './route-kit.js';
import { createIdentityJobs } from './jobs.js';
import { internalRoutes } from './internal.routes.js';
import { prepareDummyHash, setPasswordHashConcurrency } from './passwords.js';
import { createSigningKeys } from './keys.service.js';
import { createLogin } from './login.service.js';
import { createIdentityMail } from './mail.js';
import { meRoutes } from './me.routes.js';
import { createMfa } from './mfa.service.js';
import { identityMigrations } from './migrations/index.js';
import { createOAuth } from './oauth.service.js';
import { oauthRoutes } from './oauth.routes.js';
import { createOneTimeTokens } from './one-time-tokens.js';
import { createSecretReseal } from './reseal.service.js';
import { seedIdentity } from './seed/seed.js';
import { createIdentitySubscribers } from './subscribers.js';
import type { IdentityTables } from './tables.js';
import { createLoginThrottle } from './throttle.js';
import { ACCESS_TOKEN_TTL_SECONDS, createTokens } from './tokens.service.js';

export interface IdentityOptions {
  /** Time source; tests pass a movable clock. */
  clock?: Clock;
  /**
   * Secret that seals private signing keys and TOTP secrets at rest (AES-256-GCM, HKDF-derived).
   * Without it they are stored unsealed; see CONTEXT.md.
   */
  keyEncryptionSecret?: string | undefined;
  /**
   * Earlier key-encryption secrets: they only open values sealed before a rotation, until the
   * reseal job has sealed those again under `keyEncryptionSecret` (which must then be set).
   */
  previousKeyEncryptionSecrets?: readonly string[] | undefined;
  /** Argon2 work at once in this process (passwords.ts); unset keeps the CPU count. */
  passwordHashesAtOnce?: number | undefined;
  /**
   * The modules that write a part of a copy of a user's data: every module of the platform,
   * wherever it runs (the registry passes them all); identity alone by default.
   */
  dataExportParts?: readonly string[] | undefined;
}

/** Wire the module; tests use the returned services directly. */
export function buildIdentity(platform: Platform, options: IdentityOptions = {}) {
  const { config, cache, logger, mailer, storage } = platform;
  const db = platform.database.db.withTables<IdentityTables>();
  const clock = options.clock ?? systemClock;
  const box = createSecretBox(options.keyEncryptionSecret, options.previousKeyEncryptionSecrets);
  if (options.passwordHashesAtOnce !== undefined) setPasswordHashConcurrency(options.passwordHashesAtOnce);
  // where clients reach us; without PUBLIC_URL the local address, never a request's Host header
  const appUrl = (config.publicUrl ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
  if (config.publicUrl !== undefined && config.jwtIssuer !== appUrl) {
    logger.warn(
      { issuer: config.jwtIssuer, publicUrl: appUrl },
      'identity: JWT_ISSUER is not the public URL; set both to the same address so "iss" names this server (RFC 9068)',
    );
  }
  if (!box.encrypting) {
    logger.warn('identity: no key-encryption secret; signing keys and TOTP secrets are stored unsealed');
  }
  if (box.rotating) {
    logger.info(
      'identity: previous key-encryption secrets are set; the hourly identity.reseal-secrets job seals their values again (remove them after it logs left: 0)',
    );
  }
  const audit = createAuditLog({ db, clock });
  const keys = createSigningKeys({
    db,
    box,
    clock,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    accessTokenTtlSeconds: ACCESS_TOKEN_TTL_SECONDS,
  });
  const tokens = createTokens({ db, keys, cache, clock, audit, logger });
  const throttle = createLoginThrottle(cache, clock);
  const mail = createIdentityMail({
    mailer,
    logger,
    appUrl: () => appUrl,
  });
  const oneTime = createOneTimeTokens(clock);
  const accounts = createAccounts({ db, cache, clock, audit, tokens, mail, throttle, oneTime });
  const mfa = createMfa({ db, box, clock, audit, throttle, tokens });
  const login = createLogin({ db, cache, clock, audit, throttle, tokens, mfa });
  const admin = createAdmin({ db, clock, audit, tokens, keys });
  const closure = createClosure({ db, clock, audit, tokens, mfa });
  const reseal = createSecretReseal({ db, box });
  // the jobs and the service that sends them refer to each other: the handlers are late-bound
  const jobs = createIdentityJobs({
    purgeDataExports: () => dataExports.purgeExpired(),
    checkDataExportReady: (exportId, round) => dataExports.checkReady(exportId, round),
    resealSecrets: (logger) => reseal.run(logger),
  });
  const dataExports = createDataExports({
    db,
    clock,
    audit,
    mfa,
    storage,
    logger,
    mail,
    queueReadyCheck: async (exportId, round, delaySeconds, trx) => {
      await platform.jobs.send(
        jobs.dataExportReady,
        { exportId, round },
        { delaySeconds, ...(trx ? { transaction: trx } : {}) },
      );
    },
    parts: options.dataExportParts ?? ['identity'],
  });
  const verifier = createTokenVerifier({
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    keys: keys.keySource,
    check: tokens.checkPrincipal,
  });
  const oauth = createOAuth({ db, tokens, login, audit, verifier, issuer: config.jwtIssuer, clock });

  const api = createIdentityApi({ db, keys: keys.keySource, tokens, admin, oauth });

  const apiRoutes = [
    authRoutes({ accounts, login, tokens }),
    meRoutes({ accounts, mfa, closure }),
    dataExportRoutes(dataExports),
    adminRoutes({ admin, audit, oauth, closure }),
  ];
  const rootRoutes = oauthRoutes({ oauth, keys, issuer: config.jwtIssuer, baseUrl: appUrl });

  const module: LecternModule & { api: IdentityApi } = {
    name: 'identity',
    migrations: identityMigrations,
    api,
    checkToken: tokens.checkPrincipal,
    subscribers: createIdentitySubscribers({ storage, clock }),
    jobs: jobs.all,
    routes: async (app, kit) => {
      identityHooks(app);
      for (const register of apiRoutes) register(app, kit);
      await prepareDummyHash();
    },
    rootRoutes: async (app, kit) => {
      // the OAuth endpoints answer errors in RFC 6749's format: keep that handler in their own scope
      await app.register(async (oauthScope) => {
        rootRoutes(oauthScope, kit);
        return Promise.resolve();
      });
      internalRoutes(api)(app, kit);
    },
    seed: () => seedIdentity({ db, accounts, oauth }),
    bench: identityBench({ db, clock }),
    close: async () => {
      await tokens.denyList.close();
      await mail.drain();
    },
  };

  return {
    module,
    api,
    db,
    clock,
    keys,
    tokens,
    throttle,
    accounts,
    login,
    mfa,
    admin,
    oauth,
    audit,
    verifier,
    mail,
    dataExports,
    reseal,
  };
}

export type Identity = ReturnType<typeof buildIdentity>;

/** The module as the registry mounts it. */
export function createIdentityModule(
  platform: Platform,
  options: IdentityOptions = {},
): LecternModule & { api: IdentityApi } {
  return buildIdentity(platform, options).module;
}
