import { AppError } from '../../platform/errors.js';
import { decodeCursor } from '../../platform/http/pagination.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A cursor is (sort value, id). One from another sort order, or a forged one, must be a 400
 * here rather than a type error inside SQL.
 */
export function checkCursor(cursor: string | undefined, kind: 'date' | 'number'): void {
  if (!cursor) return;
  const [value, id] = decodeCursor(cursor, 2);
  const valueOk =
    kind === 'date'
      ? typeof value === 'string' && !Number.isNaN(Date.parse(value))
      : typeof value === 'number';
  if (!valueOk || typeof id !== 'string' || !UUID.test(id)) {
    throw AppError.validation('request.bad-cursor', 'The cursor is not one this API issued for this list.', [
      { field: '/querystring/cursor', message: 'is not a valid cursor for this list' },
    ]);
  }
}
