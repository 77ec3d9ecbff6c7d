import type { Kysely } from 'kysely';
import { findCourseForSale } from './courses.queries.js';
import type { CatalogTables, CourseStatus } from './tables.js';

export interface CourseForSale {
  id: string;
  title: string;
  ownerId: string;
  instructorIds: string[];
  /** The course's category (commerce scopes coupons by it); null when uncategorised. */
  categoryId: string | null;
  price: { amount: number; currency: string };
  isFree: boolean;
  status: CourseStatus;
  /** Only published courses may be ordered. */
  onSale: boolean;
}

/** What commerce needs to sell a course. */
export function createSalesService(deps: { db: Kysely<CatalogTables> }) {
  const { db } = deps;
  return {
    /** The current price, read from the primary so an order never sees an old one. */
    async forSale(courseId: string): Promise<CourseForSale | undefined> {
      const row = await findCourseForSale(db, courseId);
      if (!row) return undefined;
      return {
        id: row.id,
        title: row.title,
        ownerId: row.owner_id,
        instructorIds: row.instructor_ids,
        categoryId: row.category_id,
        price: { amount: row.price_amount, currency: row.currency },
        isFree: row.price_amount === 0,
        status: row.status,
        onSale: row.status === 'published',
      };
    },
  };
}

export type SalesService = ReturnType<typeof createSalesService>;
