import { describe, expect, it } from 'vitest';
import { parseChinaTime, parseRfc3339, toChinaRfc3339, toChinaTime } from './provider-time.js';

describe('provider times', () => {
  it('writes UTC instants as China Standard Time, across a date line', () => {
    expect(toChinaTime(new Date('2026-12-31T16:30:05Z'))).toBe('2027-01-01 00:30:05');
    expect(toChinaRfc3339(new Date('2026-12-31T16:30:05Z'))).toBe('2027-01-01T00:30:05+08:00');
  });

  it('reads China times back to the same instant, and refuses what is not one', () => {
    expect(parseChinaTime('2027-01-01 00:30:05')).toEqual(new Date('2026-12-31T16:30:05Z'));
    for (const text of [
      '2026-02-30 10:00:00',
      '2026-01-01T10:00:00',
      '2026-01-01 10:00',
      '',
      '2026-13-01 00:00:00',
    ]) {
      expect(parseChinaTime(text), text).toBeUndefined();
    }
  });

  it('reads RFC 3339 with an explicit offset only', () => {
    expect(parseRfc3339('2026-03-01T18:00:00+08:00')).toEqual(new Date('2026-03-01T10:00:00Z'));
    expect(parseRfc3339('2026-03-01T10:00:00.5Z')).toEqual(new Date('2026-03-01T10:00:00.500Z'));
    for (const text of [
      '2026-03-01T18:00:00',
      '2026-03-01 18:00:00+08:00',
      'yesterday',
      '2026-02-30T00:00:00+08:00x',
      '2026-02-30T00:00:00+08:00',
      '2026-03-01T24:00:00Z',
    ]) {
      expect(parseRfc3339(text), text).toBeUndefined();
    }
  });
});
