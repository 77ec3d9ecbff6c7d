/** Modules whose API learning calls: identity (learners' names on certificates), catalog (lessons, courses). */
export const LEARNING_REQUIRES = ['identity', 'catalog'] as const;
