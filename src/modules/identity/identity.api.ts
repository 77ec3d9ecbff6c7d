import type { KeySource, Principal } from '../../platform/http/auth.js';
import type { InternalClient } from '../../platform/http/internal-client.js';
import type { Admin } from './admin.service.js';
import { internalMeta, type IdentityDb } from './context.js';
import type { ClientView, GrantType, OAuth } from './oauth.service.js';
import type { Tokens } from './tokens.service.js';
import { findUserByEmail, findUserById, type UserRow } from './users.queries.js';
import { isUuid } from '../../platform/ids.js';

/** What other modules may ask identity; an HTTP client of the same shape when split. */
export interface UserSummary {
  id: string;
  email: string;
  displayName: string;
  roles: string[];
  status: 'active' | 'disabled' | 'closed';
  emailVerified: boolean;
}

/**
 * What other modules may ask identity, declared with `requires: ['identity']` in the registry:
 * the in-process API when identity runs in the same process, `identityHttpClient` otherwise.
 */
export interface IdentityDirectory {
  getUser(id: string): Promise<UserSummary | undefined>;
  findUserByEmail(email: string): Promise<UserSummary | undefined>;
}

export interface IdentityApi extends IdentityDirectory {
  /** Public keys of access tokens, for the platform's verifier. */
  keys: KeySource;
  /**
   * Deny-list check for the verifier's `check` hook: refuses access tokens of disabled users,
   * users whose roles changed, revoked sessions, revoked client tokens, before they expire.
   */
  checkPrincipal: (principal: Principal) => void | Promise<void>;
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

/** The in-process implementation: plain calls into identity's services. */
export function createIdentityApi(deps: {
  db: IdentityDb;
  keys: KeySource;
  tokens: Tokens;
  admin: Admin;
  oauth: OAuth;
}): IdentityApi {
  const { db, keys, tokens, admin, oauth } = deps;
  return {
    keys,
    checkPrincipal: tokens.checkPrincipal,
    async getUser(id) {
      // ids come from other modules' data; a malformed one is simply nobody
      if (!isUuid(id)) return undefined;
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
}

/** Identity's internal routes (internal.routes.ts), for services without identity in-process. */
export const IDENTITY_INTERNAL_PREFIX = '/internal/v1/identity';

/** The same interface over HTTP, on the platform's internal client. */
export function identityHttpClient(http: InternalClient): IdentityDirectory {
  return {
    getUser: (id) => http.find<UserSummary>(`${IDENTITY_INTERNAL_PREFIX}/users/${encodeURIComponent(id)}`),
    findUserByEmail: (email) =>
      http.find<UserSummary>(`${IDENTITY_INTERNAL_PREFIX}/users/by-email`, { email }),
  };
}
