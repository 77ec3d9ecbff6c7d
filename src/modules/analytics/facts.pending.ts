import type { Kysely } from 'kysely';
import {
  addCourseInstructors,
  addPurchases,
  insertOrderLines,
  type OrderLineFact,
  own,
  type Pair,
} from './facts.queries.js';
import type { RawEvent } from './ingest.queries.js';
import type { IngestService } from './ingest.service.js';
import type { AnalyticsTables } from './tables.js';

/**
 * The inserts of a batch of domain events, gathered so each table takes one statement for the
 * whole batch instead of one per event. Only inserts that ignore an existing row or add to a
 * count are gathered: they give the same rows in any order. A removal (a refund, a revocation)
 * must see them first, so its handler calls `flush` before it runs.
 */
export interface PendingFacts {
  raw: RawEvent[];
  orderLines: OrderLineFact[];
  purchases: Pair[];
  owned: Pair[];
  instructors: { courseId: string; instructorId: string }[];
  flush(): Promise<void>;
}

export function pendingFacts(db: Kysely<AnalyticsTables>, ingest: IngestService): PendingFacts {
  const pending: PendingFacts = {
    raw: [],
    orderLines: [],
    purchases: [],
    owned: [],
    instructors: [],
    async flush() {
      const { raw, orderLines, purchases, owned, instructors } = pending;
      pending.raw = [];
      pending.orderLines = [];
      pending.purchases = [];
      pending.owned = [];
      pending.instructors = [];
      if (raw.length > 0) await ingest.record(db, raw);
      await insertOrderLines(db, orderLines);
      await addPurchases(db, purchases);
      await own(db, owned);
      await addCourseInstructors(db, instructors);
    },
  };
  return pending;
}
