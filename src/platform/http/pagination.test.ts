import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { decodeCursor, encodeCursor, toPage } from './pagination.js';

const ID = '0b6f7a5e-3f1c-4c59-9a53-2a8f0d1e7c11';
const badCursor = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : 'other error';
  }
  return 'no error';
};

describe('tagged cursors', () => {
  it('round-trip the values of the order they were made for', () => {
    const cursor = encodeCursor([0.4365, ID], 'best');
    expect(decodeCursor(cursor, ['number', 'uuid'], 'best')).toEqual([0.4365, ID]);
  });

  it('refuse a cursor of another order, an untagged one and a forged tag with request.bad-cursor', () => {
    const best = encodeCursor([3, ID], 'best');
    expect(badCursor(() => decodeCursor(best, ['int32', 'uuid'], 'helpful'))).toBe('request.bad-cursor');
    expect(badCursor(() => decodeCursor(encodeCursor([3, ID]), ['int32', 'uuid'], 'helpful'))).toBe(
      'request.bad-cursor',
    );
    expect(
      badCursor(() => decodeCursor(encodeCursor(['x', ID], 'helpful'), ['int32', 'uuid'], 'helpful')),
    ).toBe('request.bad-cursor');
  });

  it('toPage with a tag makes cursors its keyset reads back', () => {
    const rows = [1, 2, 3].map((n) => ({ n, id: ID }));
    const page = toPage(
      rows,
      2,
      (r) => [r.n, r.id],
      (r) => r.n,
      'helpful',
    );
    expect(page.data).toEqual([1, 2]);
    expect(decodeCursor(page.nextCursor ?? '', ['int32', 'uuid'], 'helpful')).toEqual([2, ID]);
    expect(
      toPage(
        rows.slice(0, 2),
        2,
        (r) => [r.n, r.id],
        (r) => r.n,
        'helpful',
      ).nextCursor,
    ).toBeNull();
  });
});
