import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.js';
import { requirePrincipal } from '../../platform/http/principal.js';
import type { Viewer } from './access.js';
import { CommunityErrors } from './community.errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function viewerFrom(subject: string, roles: string[]): Viewer {
  // community keeps user ids in uuid columns; any other subject would surface as a 500
  if (!UUID.test(subject)) {
    throw AppError.forbidden(
      CommunityErrors.unsupportedSubject,
      'This token’s subject is not a user of this platform.',
    );
  }
  return { userId: subject, roles };
}

export const requireViewer = (request: FastifyRequest): Viewer => {
  const p = requirePrincipal(request);
  return viewerFrom(p.subject, p.roles);
};

export const optionalViewer = (request: FastifyRequest): Viewer | undefined =>
  request.principal ? viewerFrom(request.principal.subject, request.principal.roles) : undefined;

export const tags = ['community'];
