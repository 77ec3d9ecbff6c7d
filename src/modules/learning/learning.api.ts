import type { InternalClient } from '../../platform/http/internal-client.js';
import type { EntitlementsService } from './entitlements.service.js';
import type { ProgressService } from './progress.service.js';

/** What other modules may ask learning (commerce: do not sell what is owned; its refund rule). */
export interface LearningApi {
  /** Of these courses, the ones the user may open now (any grant). */
  ownedCourseIds(userId: string, courseIds: string[]): Promise<string[]>;
  /** The share of the course the user has consumed, 0..1 (see CONTEXT.md). */
  consumedShare(userId: string, courseId: string): Promise<number>;
  /** May the user open the course's paid lessons (any grant)? The catalog's paid-lesson reads ask. */
  canOpen(userId: string, courseId: string): Promise<boolean>;
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

/** The in-process implementation; ids that are not uuids name nothing (rather than a SQL error). */
export function createLearningApi(deps: {
  entitlements: EntitlementsService;
  progress: ProgressService;
}): LearningApi {
  const { entitlements, progress } = deps;
  return {
    async ownedCourseIds(userId, courseIds) {
      if (!isUuid(userId)) return [];
      return entitlements.ownedCourseIds(userId, [...new Set(courseIds.filter(isUuid))]);
    },
    async consumedShare(userId, courseId) {
      if (!isUuid(userId) || !isUuid(courseId)) return 0;
      return progress.consumedShare(userId, courseId);
    },
    async canOpen(userId, courseId) {
      if (!isUuid(userId) || !isUuid(courseId)) return false;
      return entitlements.isEntitled(userId, courseId);
    },
  };
}

/** Learning's internal routes (internal.routes.ts), for services without learning in-process. */
export const LEARNING_INTERNAL_PREFIX = '/internal/v1/learning';

/** The same interface over HTTP, on the platform's internal client (reads: retried). */
export function learningHttpClient(http: InternalClient): LearningApi {
  const user = (userId: string) => `${LEARNING_INTERNAL_PREFIX}/users/${encodeURIComponent(userId)}`;
  return {
    async ownedCourseIds(userId, courseIds) {
      const unique = [...new Set(courseIds)];
      if (unique.length === 0) return [];
      const answer = await http.get<{ courseIds: string[] }>(`${user(userId)}/owned-courses`, {
        courseIds: unique.join(','),
      });
      return answer.courseIds;
    },
    async consumedShare(userId, courseId) {
      const answer = await http.get<{ share: number }>(
        `${user(userId)}/courses/${encodeURIComponent(courseId)}/consumed-share`,
      );
      return answer.share;
    },
    async canOpen(userId, courseId) {
      const answer = await http.get<{ canOpen: boolean }>(
        `${user(userId)}/courses/${encodeURIComponent(courseId)}/can-open`,
      );
      return answer.canOpen;
    },
  };
}
