import { eventSubscriber, type ModuleSubscriber } from '../../platform/module.js';
import { exportPartSubscriber } from '../../platform/personal-data.js';
import type { Storage } from '../../platform/storage/storage.js';
import { DataExportRequestedEvent, InstructorApprovedEvent, ProfileUpdatedEvent } from '../identity/index.js';
import type { CatalogCache } from './catalog.cache.js';
import { CatalogEvents } from './catalog.events.js';
import type { InstructorsService } from './instructors.service.js';
import { catalogPersonalData } from './personal-data.queries.js';
import type { CatalogTables } from './tables.js';

/**
 * Handlers of events, each idempotent through the platform's inbox (one effect per event id).
 * Identity's events come typed: the platform dead-letters any whose version or data does not
 * match identity's definition, so the handlers hold no checks of their own. Cache drops wait for
 * the commit: made inside the transaction, a read in the gap would load the old rows and put
 * them back in the cache.
 */
export function createCatalogSubscribers(deps: {
  cache: CatalogCache;
  instructors: InstructorsService;
  storage: Storage;
}): ModuleSubscriber[] {
  const { cache, instructors, storage } = deps;
  return [
    {
      // A second drop after the relay delivers the event closes the window in which a reader that
      // loaded the old row before the commit wrote it back to the cache after the service's drop
      // (and covers a read replica that lagged behind that drop). Untyped on purpose: it needs
      // only the aggregate id, and a future version of the catalog's own events must still drop
      // the cache rather than be dead-lettered.
      consumer: 'catalog.cache-invalidation',
      types: [
        CatalogEvents.coursePublished,
        CatalogEvents.courseUpdated,
        CatalogEvents.courseArchived,
        CatalogEvents.lessonAdded,
      ],
      async handle(event, _trx, { afterCommit }) {
        afterCommit(() => cache.invalidateCourse(event.aggregateId));
        await Promise.resolve();
      },
    },
    eventSubscriber({
      consumer: 'catalog.instructor-profiles',
      events: [InstructorApprovedEvent],
      async handle(event, trx, { afterCommit }) {
        // the name comes with the event: asking identity here would hold this transaction open
        // across a call to another module (and, on PGlite's single connection, wait forever)
        const { userId, displayName } = event.data;
        const courseIds = await instructors.applyApproved(
          trx.withTables<CatalogTables>(),
          userId,
          displayName,
        );
        afterCommit(() => cache.invalidateCourse(...courseIds));
      },
    }),
    eventSubscriber({
      consumer: 'catalog.instructor-profile-updates',
      events: [ProfileUpdatedEvent],
      async handle(event, trx, { afterCommit }) {
        const courseIds = await instructors.applyProfile(trx.withTables<CatalogTables>(), event.data);
        // the instructor page is cached too: bump listings even when no course changed
        afterCommit(async () => {
          await cache.invalidateCourse(...courseIds);
          await cache.invalidateListings();
        });
      },
    }),
    exportPartSubscriber({
      requested: DataExportRequestedEvent,
      module: 'catalog',
      storage,
      sections: (trx, userId) => catalogPersonalData(trx.withTables<CatalogTables>(), userId),
    }),
  ];
}
