import { AppError } from '../../platform/errors.js';
import type { App } from '../../platform/http/server.js';
import type { HttpKit } from '../../platform/module.js';
import { INTERNAL_SCOPE } from '../identity/index.js';
import { LEARNING_INTERNAL_PREFIX, type LearningApi } from './learning.api.js';
import {
  CanOpen,
  ConsumedShare,
  InternalShareParams,
  InternalUserParams,
  OwnedCourses,
  OwnedQuery,
} from './learning.schemas.js';

/** Most course ids one ownership question may carry (an order's lines, far fewer in practice). */
export const MAX_OWNED_QUERY = 100;

/**
 * Learning's API for modules in other processes (commerce): service clients with the internal
 * scope only (a user token passes scope checks by role, so it is refused explicitly); hidden from
 * the public OpenAPI document.
 */
export function learningInternalRoutes(api: LearningApi) {
  return (app: App, { auth }: HttpKit) => {
    const preHandler = [auth.require({ clientsOnly: 'learning.internal-only', scopes: [INTERNAL_SCOPE] })];

    app.get(
      `${LEARNING_INTERNAL_PREFIX}/users/:userId/owned-courses`,
      {
        preHandler,
        schema: {
          hide: true,
          params: InternalUserParams,
          querystring: OwnedQuery,
          response: { 200: OwnedCourses },
        },
      },
      async (request) => {
        const courseIds = request.query.courseIds.split(',').filter((id) => id !== '');
        if (courseIds.length > MAX_OWNED_QUERY) {
          throw AppError.validation('learning.too-many-courses', `At most ${MAX_OWNED_QUERY} course ids.`, [
            { field: 'courseIds', message: `at most ${MAX_OWNED_QUERY} ids` },
          ]);
        }
        return { courseIds: await api.ownedCourseIds(request.params.userId, courseIds) };
      },
    );
    app.get(
      `${LEARNING_INTERNAL_PREFIX}/users/:userId/courses/:courseId/consumed-share`,
      { preHandler, schema: { hide: true, params: InternalShareParams, response: { 200: ConsumedShare } } },
      async (request) => ({ share: await api.consumedShare(request.params.userId, request.params.courseId) }),
    );
    // the catalog's paid-lesson reads when learning runs in another process (registry.ts)
    app.get(
      `${LEARNING_INTERNAL_PREFIX}/users/:userId/courses/:courseId/can-open`,
      { preHandler, schema: { hide: true, params: InternalShareParams, response: { 200: CanOpen } } },
      async (request) => ({ canOpen: await api.canOpen(request.params.userId, request.params.courseId) }),
    );
  };
}
