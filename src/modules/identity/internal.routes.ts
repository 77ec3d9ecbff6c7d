import { AppError } from '../../platform/errors.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { AccountErrors } from './identity.errors.js';
import { IDENTITY_INTERNAL_PREFIX, type IdentityDirectory } from './identity.api.js';
import { EmailQuery, UserIdParams, UserSummary } from './internal.schemas.js';

/** The scope a client_credentials token needs to call any module's internal routes. */
export const INTERNAL_SCOPE = 'internal';

/**
 * Identity's API for modules running in other processes. Service clients only (a user token
 * passes scope checks by role, so it is refused here explicitly); hidden from the public
 * OpenAPI document.
 */
export function internalRoutes(directory: IdentityDirectory) {
  return (app: App, { auth }: HttpKit) => {
    const preHandler = [auth.require({ clientsOnly: 'identity.internal-only', scopes: [INTERNAL_SCOPE] })];

    app.get(
      `${IDENTITY_INTERNAL_PREFIX}/users/by-email`,
      { preHandler, schema: { hide: true, querystring: EmailQuery, response: { 200: UserSummary } } },
      async (request) => {
        const user = await directory.findUserByEmail(request.query.email);
        if (!user) throw AppError.notFound(AccountErrors.notFound, 'No such user.');
        return user;
      },
    );
    app.get(
      `${IDENTITY_INTERNAL_PREFIX}/users/:id`,
      { preHandler, schema: { hide: true, params: UserIdParams, response: { 200: UserSummary } } },
      async (request) => {
        const user = await directory.getUser(request.params.id);
        if (!user) throw AppError.notFound(AccountErrors.notFound, 'No such user.');
        return user;
      },
    );
  };
}
