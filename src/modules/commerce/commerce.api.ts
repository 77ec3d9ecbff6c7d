import type { Kysely } from 'kysely';
import { paidCourseIds } from './orders.queries.js';
import type { CommerceTables } from './tables.js';

/** Commerce's synchronous answers for other modules. */
export interface CommerceApi {
  /** Which of these courses the user bought and still holds (paid, not fully refunded). */
  paidCourseIds(userId: string, courseIds: readonly string[]): Promise<string[]>;
}

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);

export function createCommerceApi(db: Kysely<CommerceTables>): CommerceApi {
  return {
    paidCourseIds: (userId, courseIds) =>
      isUuid(userId) ? paidCourseIds(db, userId, courseIds.filter(isUuid)) : Promise.resolve([]),
  };
}
