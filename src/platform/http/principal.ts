import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Principal } from './auth.js';

/**
 * The caller a guard has already established, for handlers behind `auth.require()`. Throws 401
 * when there is none (a route that forgot its guard fails closed instead of acting for nobody).
 */
export function requirePrincipal(request: FastifyRequest): Principal {
  const { principal } = request;
  if (!principal) throw AppError.unauthenticated('auth.required', 'This route needs an access token.');
  return principal;
}
