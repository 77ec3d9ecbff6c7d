/** The other modules' APIs commerce asks (in-process, or over HTTP when split). */
export const COMMERCE_REQUIRES = ['catalog', 'learning'] as const;
