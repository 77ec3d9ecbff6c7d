import { createTokenVerifier, type KeySource, type Principal } from '../../platform/http/auth.js';
import type { LecternModule, Platform } from '../../platform/module.js';
import { createAccounts } from './accounts.service.js';
import { adminRoutes } from './admin.routes.js';
import { createAdmin } from './admin.service.js';
import { createAuditLog } from './audit.js';
import { authRoutes } from './auth.routes.js';
import { identityBench } from './bench.js';
import { type Clock, internalMeta, systemClock } from './context.js';
import { createSecretBox } from './crypto.js';
import { identityHooks } from './http.js';
import type { IdentityDirectory } from './identity.api.js';
import { internalRoutes } from './internal.routes.js';
import { prepareDummyHash } from './passwords.js';
import { createSigningKeys } from './keys.service.js';
import { createLogin } from './login.service.js';
import { createIdentityMail } from './mail.js';
import { meRoutes } from './me.routes.js';
import { createMfa } from './mfa.service.js';
import { identityMigrations } from './migrations/index.js';
import { createOAuth, type ClientView, type GrantType } from './oauth.service.js';
import { oauthRoutes } from './oauth.routes.js';
import { createOneTimeTokens } from './one-time-tokens.js';
import { seedIdentity } from './seed.js';
import type { IdentityTables } from './tables.js';
import { createLoginThrottle } from './throttle.js';
import { ACCESS_TOKEN_TTL_SECONDS, createTokens } from './tokens.service.js';
import { findUserByEmail, findUserById, type UserRow } from './users.queries.js';

export interface IdentityOptions {
  /** Time source; tests pass a movable clock. */
  clock?: Clock;
  /**
   * Secret that seals private signing keys and TOTP secrets at rest (AES-256-GCM, HKDF-derived).
   * Without it they are stored unsealed; see CONTEXT.md.
   */
  keyEncryptionSecret?: string | undefined;
}

/** What other modules may ask identity; an HTTP client of the same shape when split. */
export interface UserSummary {
  id: string;
  email: string;
  displayName: string;
  roles: string[];
  status: 'active' | 'disabled';
  emailVerified: boolean;
}

export interface IdentityApi extends IdentityDirectory {
  /** Public keys of access tokens, for the platform's verifier. */
  keys: KeySource;
  /**
   * Deny-list check for the verifier's `check` hook: refuses access tokens of disabled users,
   * revoked sessions and disabled clients before they expire.
   */
  checkPrincipal: (principal: Principal) => Promise<void>;
  getUser(id: string): Promise<UserSummary | undefined>;
  findUserByEmail(email: string): Promise<UserSummary | undefined>;
  /** Start signing with a new key (CLI, a timer, or the admin endpoint). */
  rotateSigningKey(options?: { prepublishSeconds?: number }): Promise<{ kid: string; activatesAt: string }>;
  /** Register an OAuth client from code (CLI, another module's seed). */
  registerClient(input: {
    name: string;
    grantTypes: GrantType[];
    scopes: string[];
    confidential: boolean;
    firstParty?: boolean;
  }): Promise<ClientView & { clientSecret: string | null }>;
}

const summary = (row: UserRow): UserSummary => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  roles: row.roles,
  status: row.status,
  emailVerified: row.email_verified_at !== null,
});

/** Wire the module; tests use the returned services directly. */
export function buildIdentity(platform: Platform, options: IdentityOptions = {}) {
  const { config, cache, logger, mailer } = platform;
  const db = platform.database.db.withTables<IdentityTables>();
  const clock = options.clock ?? systemClock;
  const box = createSecretBox(options.keyEncryptionSecret);
  if (!box.encrypting) {
    logger.warn('identity: no key-encryption secret; signing keys and TOTP secrets are stored unsealed');
  }
  const audit = createAuditLog(clock);
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
    appUrl: () => config.publicUrl ?? `http://localhost:${config.port}`,
  });
  const oneTime = createOneTimeTokens(clock);
  const accounts = createAccounts({ db, cache, clock, audit, tokens, mail, throttle, oneTime });
  const mfa = createMfa({ db, box, clock, audit, throttle, tokens });
  const login = createLogin({ db, cache, audit, throttle, tokens, mfa });
  const admin = createAdmin({ db, clock, audit, tokens, keys });
  const verifier = createTokenVerifier({
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
    keys: keys.keySource,
    check: tokens.checkPrincipal,
  });
  const oauth = createOAuth({ db, tokens, login, audit, verifier, issuer: config.jwtIssuer });

  const api: IdentityApi = {
    keys: keys.keySource,
    checkPrincipal: tokens.checkPrincipal,
    async getUser(id) {
      // ids come from other modules' data; a malformed one is simply nobody
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
      const row = await findUserById(db, id);
      return row ? summary(row) : undefined;
    },
    async findUserByEmail(email) {
      const row = await findUserByEmail(db, email);
      return row ? summary(row) : undefined;
    },
    rotateSigningKey: (opts = {}) => admin.rotateKeys(null, opts, internalMeta),
    registerClient: (input) => oauth.registerClient({ ...input, firstParty: input.firstParty ?? false }),
  };

  const apiRoutes = [
    authRoutes({ accounts, login, tokens }),
    meRoutes({ accounts, mfa }),
    adminRoutes({ db, admin, audit, oauth }),
  ];
  const rootRoutes = oauthRoutes({ oauth, keys, publicUrl: config.publicUrl });

  const module: LecternModule & { api: IdentityApi } = {
    name: 'identity',
    migrations: identityMigrations,
    api,
    checkToken: tokens.checkPrincipal,
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
    seed: () => seedIdentity({ db, oauth, clock }),
    bench: identityBench({ db, clock }),
    close: () => mail.drain(),
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
  };
}

export type Identity = ReturnType<typeof buildIdentity>;
