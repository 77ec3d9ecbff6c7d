import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/principal.js';
import { unsupportedSubject } from './notify.errors.js';
import { isUuid } from '../../platform/ids.js';

export { bearerSecurity as bearer } from '../../platform/http/problem.js';

/** The signed-in user's id; user ids are UUIDs, a client token's subject has no inbox. */
export function userIdOf(request: FastifyRequest): string {
  const principal = requirePrincipal(request);
  if (!isUuid(principal.subject)) throw unsupportedSubject();
  return principal.subject.toLowerCase();
}
