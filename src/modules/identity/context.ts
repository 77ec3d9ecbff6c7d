import type { Kysely } from 'kysely';
import type { IdentityTables } from './tables.js';

export type IdentityDb = Kysely<IdentityTables>;

/** Injectable time, so tests move past expiries instead of sleeping. */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();

/** Who is on the other end of a request, for throttling and the audit log. */
export interface RequestMeta {
  ip: string;
  userAgent: string | null;
}

/** Used when a flow is started from code (seed, CLI) rather than a request. */
export const internalMeta: RequestMeta = { ip: 'internal', userAgent: null };

export const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);
export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
