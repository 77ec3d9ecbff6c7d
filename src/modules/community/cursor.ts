import { AppError } from '../../platform/errors.js';
import { type CursorPart, decodeCursor, encodeCursor } from '../../platform/http/pagination.js';

/**
 * Cursors carry the order they were made for as their first value: one list's cursor sent with
 * another sort, or a forged one, is a 400 `request.bad-cursor` rather than a wrong page (a
 * helpful-order count and a best-order score are both numbers).
 */
export function readCursor<P extends CursorPart>(
  cursor: string | undefined,
  order: string,
  part: P,
): [P extends 'uuid' | 'text' | 'date-time' ? string : number, string] | undefined {
  if (!cursor) return undefined;
  const [tag, value, id] = decodeCursor(cursor, ['text', part, 'uuid']);
  if (tag !== order) {
    throw AppError.validation('request.bad-cursor', 'The cursor is not one this API issued for this list.', [
      { field: '/querystring/cursor', message: 'is not a valid cursor for this list' },
    ]);
  }
  return [value, id] as [P extends 'uuid' | 'text' | 'date-time' ? string : number, string];
}

export const makeCursor = (order: string, value: string | number, id: string) =>
  encodeCursor([order, value, id]);
