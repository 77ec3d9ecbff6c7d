import type { Kysely } from 'kysely';
import { type Page, toPage } from '../../platform/http/pagination.js';
import { checkCursor } from './catalog.cursor.js';
import { type CourseSummaryView, summaries, type Urls } from './course.views.js';
import { listInReview } from './courses.queries.js';
import type { CatalogTables } from './tables.js';

/** What waits for a reviewer. Reads the primary: a course submitted a moment ago must be there. */
export function createReviewQueueService(deps: { db: Kysely<CatalogTables>; urls: Urls }) {
  const { db, urls } = deps;
  return {
    /** Courses waiting for an admin, oldest submission first. */
    async list(query: {
      limit?: number | undefined;
      cursor?: string | undefined;
    }): Promise<Page<CourseSummaryView>> {
      const limit = query.limit ?? 20;
      checkCursor(query.cursor, 'date');
      const rows = await listInReview(db, { limit, cursor: query.cursor });
      const page = toPage(
        rows,
        limit,
        (r) => [(r.submitted_at ?? r.created_at).toISOString(), r.id],
        (r) => r,
      );
      return { data: await summaries(db, urls, page.data), nextCursor: page.nextCursor };
    },
  };
}

export type ReviewQueueService = ReturnType<typeof createReviewQueueService>;
