import { Type } from 'typebox';
import { ProblemRef } from './problem.js';

/** Shared TypeBox building blocks for route schemas; they also shape the OpenAPI document. */

export const Uuid = Type.String({ format: 'uuid' });

/** ISO-8601 date and time; Lectern always writes UTC (`…Z`). */
export const DateTime = Type.String({ format: 'date-time' });

/** Text with at least one non-space character, at most `maxLength` characters. */
export const NonEmptyText = (maxLength = 500) => Type.String({ minLength: 1, maxLength, pattern: '\\S' });

/**
 * `Money` on the wire: integer minor units (fen, cents) and an ISO 4217 code. The schema checks
 * the shape only; `money()` from `platform/money.ts` checks the code is a real currency.
 */
export const MoneySchema = Type.Object(
  {
    amount: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { description: 'Amount in minor units of an ISO 4217 currency' },
);

export const IdParams = Type.Object({ id: Uuid });

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 415 | 416 | 422 | 429 | 503;

/**
 * The problem+json response entries of a route, to spread beside its success response:
 * `response: { 200: Course, ...errorResponses(400, 401, 404) }`. Each listed status maps to the
 * shared `Problem` schema; the keys stay literal, so the success type is still inferred.
 */
export function errorResponses<const S extends readonly ErrorStatus[]>(
  ...statuses: S
): { [K in S[number]]: typeof ProblemRef } {
  return Object.fromEntries(statuses.map((status) => [status, ProblemRef])) as {
    [K in S[number]]: typeof ProblemRef;
  };
}
