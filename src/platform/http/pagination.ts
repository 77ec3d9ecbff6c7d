import { type SelectQueryBuilder, sql } from 'kysely';
import { type Static, Type } from 'typebox';
import { AppError } from '../errors.js';
import { badTextReason } from './text-guard.js';
import { isUuid } from '../ids.js';

/** `?limit=&cursor=` for every list route. */
export const PageQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 100, default: 20, description: 'Items per page' }),
  ),
  cursor: Type.Optional(
    Type.String({ maxLength: 512, description: 'Opaque cursor from the previous page’s nextCursor' }),
  ),
});
export type PageQuery = Static<typeof PageQuery>;

/** `{ data: [...], nextCursor }` for a list of `item`. */
export const pageOf = <T extends import('typebox').TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export type CursorValue = string | number;

/**
 * What one value of a cursor must be, so that the database accepts it: a module declares its
 * cursor as a list of these (sort value, then the unique id) and anything else is a 400.
 * - `date-time`: an ISO-8601 UTC time as `Date#toISOString()` writes it
 * - `int32`: an integer PostgreSQL's `integer` holds
 * - `int64`: a `bigint` (`bigserial`), as a safe integer or the digit string `pg` returns
 * - `number`: any finite number (a `double precision` or `real` rank)
 * - `uuid`: a UUID
 * - `text`: a string (valid Unicode, no control characters)
 */
export type CursorPart = 'date-time' | 'int32' | 'int64' | 'number' | 'uuid' | 'text';
export type CursorShape = readonly CursorPart[];

/**
 * `tag` names the list order the cursor was made for (`best`, `newest`…) and travels as its first
 * value: a cursor of one order sent to another is then a 400, not a wrong page, even when both
 * sort values have the same type (a helpful count and a score are both numbers).
 */
export function encodeCursor(values: CursorValue[], tag?: string): string {
  return Buffer.from(JSON.stringify(tag === undefined ? values : [tag, ...values])).toString('base64url');
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?Z$/;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64 = /^-?\d{1,19}$/;

function isInt64(value: unknown): boolean {
  if (typeof value === 'number') return Number.isSafeInteger(value);
  if (typeof value !== 'string' || !INT64.test(value)) return false;
  const n = BigInt(value);
  return n >= -(2n ** 63n) && n < 2n ** 63n;
}

/** A real calendar time from year 1 to 9999: `Date.parse` alone takes "0" and "2026". */
function isIsoUtc(value: string): boolean {
  const m = ISO_UTC.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (y < 1 || h > 23 || mi > 59 || s > 59) return false;
  const date = new Date(Date.UTC(2000, mo - 1, d));
  date.setUTCFullYear(y);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

function fits(value: unknown, part: CursorPart | undefined): boolean {
  switch (part) {
    case 'date-time':
      return typeof value === 'string' && isIsoUtc(value);
    case 'int32':
      return Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX;
    case 'int64':
      return isInt64(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'uuid':
      return typeof value === 'string' && isUuid(value);
    case 'text':
    case undefined:
      // undefined: a caller that declared only a length; strings must still be storable text
      return (
        (typeof value === 'string' && badTextReason(value, false) === undefined) ||
        (part === undefined && typeof value === 'number' && Number.isFinite(value))
      );
  }
}

/**
 * Decode a client-supplied cursor; anything malformed is a 400 `request.bad-cursor` (a stable code clients already see),
 * never a 500. Pass the cursor's shape to have each value checked against its column's type;
 * a bare length checks only that strings are valid text and numbers finite.
 */
export function decodeCursor(cursor: string, shape: number | CursorShape, tag?: string): CursorValue[] {
  const length = typeof shape === 'number' ? shape : shape.length;
  const parts: (CursorPart | undefined)[] = typeof shape === 'number' ? [] : [...shape];
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (Array.isArray(values) && tag !== undefined) {
    values = values[0] === tag ? values.slice(1) : undefined;
  }
  if (!Array.isArray(values) || values.length !== length || !values.every((v, i) => fits(v, parts[i]))) {
    throw AppError.validation('request.bad-cursor', 'The cursor is not one this API issued for this list.', [
      { field: '/querystring/cursor', message: 'is not a valid cursor for this list' },
    ]);
  }
  return values as CursorValue[];
}

/**
 * Keyset pagination: order by `columns` (the last one unique, usually the id) in one direction
 * and continue strictly after the cursor's row. Rows inserted before the cursor never shift
 * later pages, unlike OFFSET.
 */
export function keyset<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  options: {
    columns: string[];
    direction: 'asc' | 'desc';
    limit: number;
    cursor?: string | undefined;
    /** The type of each column's cursor value; without it only the count and basic types are checked. */
    shape?: CursorShape | undefined;
    /** The list order the cursor must have been made for (`toPage` with the same tag). */
    tag?: string | undefined;
  },
): SelectQueryBuilder<DB, TB, O> {
  let q = query;
  if (options.cursor) {
    const values = decodeCursor(options.cursor, options.shape ?? options.columns.length, options.tag);
    const op = options.direction === 'asc' ? sql.raw('>') : sql.raw('<');
    q = q.where(
      sql<boolean>`(${sql.join(options.columns.map((c) => sql.ref(c)))}) ${op} (${sql.join(values.map((v) => sql`${v}`))})`,
    );
  }
  for (const column of options.columns) q = q.orderBy(sql.ref(column), options.direction);
  // one extra row tells whether another page exists without a count query
  return q.limit(options.limit + 1);
}

/**
 * Cut the extra row that `keyset` fetched and build the next cursor from the last row kept
 * (with `tag`, the cursor is bound to that list order; see `encodeCursor`).
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  cursorOf: (row: Row) => CursorValue[],
  map: (row: Row) => Item,
  tag?: string,
): Page<Item> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: kept.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last), tag) : null,
  };
}
