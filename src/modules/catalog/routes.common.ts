/** What every catalog routes file shares: the caller from the token, shared schemas, the route-set type. */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../platform/http/auth.js';
import { requirePrincipal } from '../../platform/http/principal.js';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
export { bearerSecurity as bearer, ProblemRef as Problem } from '../../platform/http/problem.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { Actor } from './course.access.js';
import { CatalogErrors } from './catalog.errors.js';
import { isUuid } from '../../platform/ids.js';

export const NoContent = Type.Null();

/** The caller, if a valid token came with the request (after `auth.optional()` or `auth.require()`). */
export function actorOf(request: FastifyRequest): Actor | undefined {
  return request.principal ? actorFrom(request.principal) : undefined;
}

/** The caller, for routes behind `auth.require()`: 401 through the platform's one check otherwise. */
export function requireActor(request: FastifyRequest): Actor {
  return actorFrom(requirePrincipal(request));
}

function actorFrom(principal: Principal): Actor {
  // catalog stores user ids in uuid columns; any other subject would otherwise surface as a 500
  if (!isUuid(principal.subject)) {
    throw AppError.forbidden(
      CatalogErrors.unsupportedSubject,
      'This token’s subject is not a user of this platform.',
    );
  }
  return { userId: principal.subject, roles: principal.roles };
}

/** One area's routes, mounted under /api/v1 by the module. */
export type RouteSet = (app: App, kit: HttpKit) => void;
