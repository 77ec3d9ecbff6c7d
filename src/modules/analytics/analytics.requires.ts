/**
 * Modules whose API analytics calls: none. Everything it knows of other modules comes from their
 * events (catalog's course events carry the category and tags the recommendations use).
 */
export const ANALYTICS_REQUIRES = [] as const;
