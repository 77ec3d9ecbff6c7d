/** What every commerce routes file shares: the caller from the token and the route-set type. */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.js';
import { requirePrincipal } from '../../platform/http/principal.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { CommerceErrors } from './commerce.errors.js';
import type { Actor } from './orders.service.js';
import { isUuid } from '../../platform/ids.js';

export { bearerSecurity as bearer } from '../../platform/http/problem.js';

/** The caller, for routes behind `auth.require()`. */
export function requireActor(request: FastifyRequest): Actor {
  const principal = requirePrincipal(request);
  // orders keep user ids in uuid columns; any other subject would otherwise surface as a 500
  if (!isUuid(principal.subject) || principal.kind !== 'user') {
    throw AppError.forbidden(
      CommerceErrors.unsupportedSubject,
      'This token’s subject is not a user of this platform.',
    );
  }
  return { userId: principal.subject.toLowerCase(), roles: principal.roles };
}

/** One area's routes, mounted under /api/v1 by the module. */
export type RouteSet = (app: App, kit: HttpKit) => void;
