import rangeParser from 'range-parser';

export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/**
 * One `bytes=` range of RFC 9110 §14.1.2, parsed by jshttp's range-parser (what Express and
 * `send` use). Several ranges, other units and malformed headers are ignored (the whole file is
 * sent), which the RFC allows; only a well-formed range that lies outside the file is
 * unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  const value = header?.trim();
  if (!value?.startsWith('bytes=')) return { kind: 'full' };
  const ranges = rangeParser(size, value);
  if (ranges === -2) return { kind: 'full' };
  if (ranges !== -1) {
    const [only] = ranges;
    return ranges.length === 1 && only
      ? { kind: 'partial', start: only.start, end: only.end }
      : { kind: 'full' };
  }
  // range-parser answers -1 for two things the RFC treats otherwise: a suffix longer than the
  // file (the whole file) and last < first (invalid, so ignored). Against an unbounded length
  // only those invalid ranges (and a zero-length suffix) are still refused.
  const suffix = value.startsWith('bytes=-');
  const unbounded = rangeParser(Number.MAX_SAFE_INTEGER, value);
  if (unbounded === -1) return suffix ? { kind: 'unsatisfiable' } : { kind: 'full' };
  if (unbounded === -2 || unbounded.length !== 1) return { kind: 'full' };
  return suffix && size > 0 ? { kind: 'partial', start: 0, end: size - 1 } : { kind: 'unsatisfiable' };
}
