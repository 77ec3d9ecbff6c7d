import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/principal.js';
import { unsupportedSubject } from './notify.errors.js';

export { bearerSecurity as bearer } from '../../platform/http/problem.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The signed-in user's id; user ids are UUIDs, a client token's subject has no inbox. */
export function userIdOf(request: FastifyRequest): string {
  const principal = requirePrincipal(request);
  if (!UUID.test(principal.subject)) throw unsupportedSubject();
  return principal.subject.toLowerCase();
}
