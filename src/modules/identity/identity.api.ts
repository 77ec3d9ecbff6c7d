import type { InternalClient } from '../../platform/http/internal-client.js';
import type { UserSummary } from './identity.module.js';

/**
 * What other modules may ask identity, declared with `requires: ['identity']` in the registry:
 * the in-process API when identity runs in the same process, `identityHttpClient` otherwise.
 */
export interface IdentityDirectory {
  getUser(id: string): Promise<UserSummary | undefined>;
  findUserByEmail(email: string): Promise<UserSummary | undefined>;
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
