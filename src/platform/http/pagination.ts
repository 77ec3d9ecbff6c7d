import { type SelectQueryBuilder, sql } from 'kysely';
import { type Static, Type } from 'typebox';
import { AppError } from '../errors.js';

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

export function encodeCursor(values: CursorValue[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** Decode a client-supplied cursor; anything malformed is a 400, never a 500. */
export function decodeCursor(cursor: string, length: number): CursorValue[] {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  if (
    !Array.isArray(values) ||
    values.length !== length ||
    !values.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw AppError.validation('request.bad-cursor', 'The cursor is not one this API issued.', [
      { field: '/querystring/cursor', message: 'is not a valid cursor' },
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
  options: { columns: string[]; direction: 'asc' | 'desc'; limit: number; cursor?: string | undefined },
): SelectQueryBuilder<DB, TB, O> {
  let q = query;
  if (options.cursor) {
    const values = decodeCursor(options.cursor, options.columns.length);
    const op = options.direction === 'asc' ? sql.raw('>') : sql.raw('<');
    q = q.where(
      sql<boolean>`(${sql.join(options.columns.map((c) => sql.ref(c)))}) ${op} (${sql.join(values.map((v) => sql`${v}`))})`,
    );
  }
  for (const column of options.columns) q = q.orderBy(sql.ref(column), options.direction);
  // one extra row tells whether another page exists without a count query
  return q.limit(options.limit + 1);
}

/** Cut the extra row that `keyset` fetched and build the next cursor from the last row kept. */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  cursorOf: (row: Row) => CursorValue[],
  map: (row: Row) => Item,
): Page<Item> {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: kept.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
