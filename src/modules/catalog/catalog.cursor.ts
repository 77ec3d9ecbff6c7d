import { type CursorPart, decodeCursor } from '../../platform/http/pagination.js';

/** What a catalog list sorts by first (`date` is `date-time`); the id after it is a UUID. */
export type CursorKind = 'date' | CursorPart;

/**
 * A cursor is (sort value, id). One from another sort order, or a forged one, is a 400
 * `request.bad-cursor` here (the platform checks each value against its column's type) rather
 * than a type error inside SQL.
 */
export function checkCursor(cursor: string | undefined, kind: CursorKind): void {
  if (!cursor) return;
  decodeCursor(cursor, [kind === 'date' ? 'date-time' : kind, 'uuid']);
}
