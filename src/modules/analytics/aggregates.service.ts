import type { Kysely } from 'kysely';
import type { Clock } from '../../platform/clock.js';
import { inTransaction } from '../../platform/db/database.js';
import { daysWithEvents, recomputeDay, takeDirtyDay } from './aggregates.queries.js';
import { purgeKeys } from './ingest.queries.js';
import { createMonthPartitions } from './partitions.queries.js';
import type { AnalyticsTables } from './tables.js';

/** How long client event keys are kept for de-duplication. */
const KEY_DAYS = 30;
/** Monthly partitions kept ready ahead of the current month. */
const MONTHS_AHEAD = 3;

export interface AggregatesService {
  /** Recompute every day marked dirty, one transaction per day; resolves with the days done. */
  refresh(): Promise<string[]>;
  /** Rebuild these days (`YYYY-MM-DD`) from raw events, or every day with events when none given. */
  rebuild(days?: string[]): Promise<string[]>;
  /** Create the partitions of the coming months; resolves with the partitions made. */
  prepareMonths(): Promise<string[]>;
  purgeKeys(): Promise<number>;
}

export function createAggregatesService(deps: {
  db: Kysely<AnalyticsTables>;
  clock: Clock;
}): AggregatesService {
  const { db, clock } = deps;
  return {
    async refresh() {
      const done: string[] = [];
      for (;;) {
        // the mark goes in the day's transaction: a failed recompute leaves the day marked
        const day = await inTransaction(db, async (trx) => {
          const taken = await takeDirtyDay(trx);
          if (taken) await recomputeDay(trx, taken);
          return taken;
        });
        if (!day) return done;
        done.push(day);
      }
    },
    async rebuild(days) {
      const list = days ?? (await daysWithEvents(db));
      for (const day of list) await inTransaction(db, (trx) => recomputeDay(trx, day));
      return list;
    },
    prepareMonths() {
      const now = clock();
      const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      return createMonthPartitions(db as unknown as Kysely<unknown>, first, MONTHS_AHEAD + 1);
    },
    purgeKeys: () => purgeKeys(db, new Date(clock().getTime() - KEY_DAYS * 86_400_000)),
  };
}
