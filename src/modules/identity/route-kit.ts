import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/principal.js';
import { AppError } from '../../platform/errors.js';
import { bearerToken, type CallbackPreHandler, type PreHandler } from '../../platform/http/auth.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import type { RequestMeta } from './context.js';
import { type Permission, rolesFor } from './permissions.js';

export const metaOf = (request: FastifyRequest): RequestMeta => {
  const ua = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua : null };
};

/** The principal a guard has established (the platform's one check; 401 when there is none). */
export const principalOf = requirePrincipal;

/**
 * `allow(permission)`: the platform guard with the roles the permission map names. The deny list
 * of disabled users and revoked sessions runs inside the guard's verifier (the module's
 * `checkToken`), for identity's routes and every other module's alike.
 */
export function guards(kit: HttpKit) {
  return {
    allow: (permission: Permission): CallbackPreHandler[] => [
      kit.auth.require({ roles: rolesFor(permission) }),
    ],
    /**
     * Use a valid token when there is one and ignore a bad one: signing out with an expired
     * access token (and the refresh token in the body) must still work.
     */
    lenient: (): PreHandler => async (request) => {
      try {
        const token = bearerToken(request);
        if (!token) return;
        request.principal = await kit.auth.verifier.verify(token);
      } catch {
        request.principal = undefined;
      }
    },
  };
}

/** Scope-wide: no caching of personal answers, and an exact Retry-After for throttled calls. */
export function identityHooks(app: App): void {
  // synchronous: an async hook costs every identity request a promise
  app.addHook('onRequest', (_request, reply, done) => {
    reply.header('cache-control', 'no-store');
    done();
  });
  app.addHook('onError', async (_request, reply, error) => {
    if (error instanceof AppError && typeof error.details.retryAfterSeconds === 'number') {
      reply.header('retry-after', String(error.details.retryAfterSeconds));
    }
  });
}
