import type { Kysely } from 'kysely';
import type { IdentityTables } from './tables.js';

export type IdentityDb = Kysely<IdentityTables>;

export { addSeconds, type Clock, epochSeconds, systemClock } from '../../platform/clock.js';

/** Who is on the other end of a request, for throttling and the audit log. */
export interface RequestMeta {
  ip: string;
  userAgent: string | null;
}

/** Used when a flow is started from code (seed, CLI) rather than a request. */
export const internalMeta: RequestMeta = { ip: 'internal', userAgent: null };
