/** Modules whose API community calls: catalog (courses, lessons, instructors), learning (who owns what). */
export const COMMUNITY_REQUIRES = ['catalog', 'learning'] as const;
