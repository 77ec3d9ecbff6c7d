/** Modules whose API analytics calls: catalog (a course's category, which its events do not carry). */
export const ANALYTICS_REQUIRES = ['catalog'] as const;
