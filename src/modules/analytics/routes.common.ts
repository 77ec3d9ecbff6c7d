import type { FastifyRequest } from 'fastify';
import { requirePrincipal } from '../../platform/http/principal.js';
import { Invalid } from './analytics.errors.js';
import { isUuid } from '../../platform/ids.js';

/** The signed-in user behind a request. */
export interface Viewer {
  userId: string;
  roles: string[];
}

function viewerFrom(subject: string, roles: string[]): Viewer {
  // analytics keeps user ids in uuid columns; a client_credentials subject is nobody's
  if (!isUuid(subject)) throw Invalid.subject();
  return { userId: subject, roles };
}

export const requireViewer = (request: FastifyRequest): Viewer => {
  const p = requirePrincipal(request);
  return viewerFrom(p.subject, p.roles);
};

export const optionalViewer = (request: FastifyRequest): Viewer | undefined =>
  request.principal ? viewerFrom(request.principal.subject, request.principal.roles) : undefined;

export const tags = ['analytics'];
