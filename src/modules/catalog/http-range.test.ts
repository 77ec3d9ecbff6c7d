import { describe, expect, it } from 'vitest';
import { parseRange } from './http-range.js';

describe('parseRange', () => {
  const cases: [string | undefined, number, ReturnType<typeof parseRange>][] = [
    [undefined, 100, { kind: 'full' }],
    ['bytes=0-9', 100, { kind: 'partial', start: 0, end: 9 }],
    [' bytes=0-0 ', 100, { kind: 'partial', start: 0, end: 0 }],
    ['bytes=90-', 100, { kind: 'partial', start: 90, end: 99 }],
    ['bytes=90-500', 100, { kind: 'partial', start: 90, end: 99 }],
    // suffix ranges: the last n bytes, the whole file when n is longer than it
    ['bytes=-5', 100, { kind: 'partial', start: 95, end: 99 }],
    ['bytes=-200', 100, { kind: 'partial', start: 0, end: 99 }],
    ['bytes=-0', 100, { kind: 'unsatisfiable' }],
    ['bytes=-5', 0, { kind: 'unsatisfiable' }],
    // outside the file
    ['bytes=100-', 100, { kind: 'unsatisfiable' }],
    ['bytes=200-300', 100, { kind: 'unsatisfiable' }],
    ['bytes=0-', 0, { kind: 'unsatisfiable' }],
    // ignored: the whole file
    ['bytes=5-2', 100, { kind: 'full' }],
    ['bytes=50-20', 10, { kind: 'full' }],
    ['bytes=0-1,5-6', 100, { kind: 'full' }],
    ['pages=1-2', 100, { kind: 'full' }],
    ['bytes=', 100, { kind: 'full' }],
    ['bytes=-', 100, { kind: 'full' }],
    ['bytes=a-b', 100, { kind: 'full' }],
    ['bytes', 100, { kind: 'full' }],
  ];
  it.each(cases)('%j of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});
