import type { Logger } from 'pino';
import type { ModuleSubscriber } from '../../platform/module.js';
import type { CatalogCache } from './catalog.cache.js';
import { CatalogEvents, ConsumedEvents } from './catalog.events.js';
import type { InstructorsService } from './instructors.service.js';
import type { CatalogTables } from './tables.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Handlers of events, each idempotent through the platform's inbox (one effect per event id). */
export function createCatalogSubscribers(deps: {
  cache: CatalogCache;
  instructors: InstructorsService;
  logger: Logger;
}): ModuleSubscriber[] {
  const { cache, instructors, logger } = deps;
  return [
    {
      // A second delete after the relay delivers the event closes the window in which a reader
      // that loaded the old row before the commit wrote it back to the cache after our delete.
      consumer: 'catalog.cache-invalidation',
      types: [
        CatalogEvents.coursePublished,
        CatalogEvents.courseUpdated,
        CatalogEvents.courseArchived,
        CatalogEvents.lessonAdded,
      ],
      async handle(event) {
        await cache.invalidateCourse(event.aggregateId);
      },
    },
    {
      consumer: 'catalog.instructor-profiles',
      types: [ConsumedEvents.instructorApproved],
      async handle(event, trx) {
        const data = (event.data ?? {}) as { userId?: unknown; displayName?: unknown };
        const userId = typeof data.userId === 'string' ? data.userId : undefined;
        if (!userId || !/^[0-9a-f-]{36}$/i.test(userId)) {
          // retrying a malformed event would fail forever; log it and move on
          logger.warn({ eventId: event.id, type: event.type }, 'catalog ignored an event without a user id');
          return;
        }
        // the name comes with the event: asking identity here would hold this transaction open
        // across a call to another module (and, on PGlite's single connection, wait forever)
        const name = typeof data.displayName === 'string' ? data.displayName : undefined;
        const courseIds = await instructors.applyApproved(trx.withTables<CatalogTables>(), userId, name);
        await cache.invalidateCourse(...courseIds);
      },
    },
    {
      consumer: 'catalog.instructor-profile-updates',
      types: [ConsumedEvents.profileUpdated],
      async handle(event, trx) {
        const data = (event.data ?? {}) as Record<string, unknown>;
        const text = (v: unknown) => (typeof v === 'string' ? v : null);
        const userId = text(data.userId);
        const displayName = text(data.displayName);
        if (!userId || !UUID.test(userId) || displayName === null) {
          logger.warn({ eventId: event.id, type: event.type }, 'catalog ignored a malformed profile event');
          return;
        }
        const courseIds = await instructors.applyProfile(trx.withTables<CatalogTables>(), {
          userId,
          displayName,
          headline: text(data.headline),
          bio: text(data.bio),
        });
        // the instructor page is cached too: bump listings even when no course changed
        await cache.invalidateCourse(...courseIds);
        await cache.invalidateListings();
      },
    },
  ];
}
