import cronParser from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { cronMatcher } from './cron.js';

const MINUTE = 60_000;

/** Every minute of [from, from + minutes) that cron-parser's own search names, by walking next(). */
function minutesByCronParser(expression: string, from: Date, minutes: number): Set<number> {
  const found = new Set<number>();
  const end = from.getTime() + minutes * MINUTE;
  const walk = cronParser.parseExpression(expression, {
    tz: 'UTC',
    currentDate: new Date(from.getTime() - 1),
    endDate: new Date(end - 1),
  });
  while (walk.hasNext()) found.add(walk.next().getTime());
  return found;
}

describe('cron schedules', () => {
  // cron-parser's walk is slow (a calendar search per step): the frequent ones over fewer days
  it.each([
    ['* * * * *', 1],
    ['*/5 * * * *', 3],
    ['7 * * * *', 40],
    ['23 3 * * *', 40],
    ['0 12 * * 1-5', 40],
    ['30 8 1,15 * *', 40],
    // both day fields restricted: either one names the day
    ['0 0 13 * 5', 40],
    ['15 */6 * 2 0', 40],
    ['0 9 * * SUN', 40],
    ['0 9 * * 7', 40],
    ['45 23 31 JAN,MAR *', 40],
    ['0 6 1-7 * 0-6', 40],
  ] as const)(
    'name the same minutes as cron-parser for "%s" over %i days',
    (expression, days) => {
      const matcher = cronMatcher(expression);
      if (matcher instanceof Error) throw matcher;
      // from a day where the 40 days cross month ends, a February and both day fields' edges
      const from = new Date('2027-01-20T00:00:00Z');
      const minutes = days * 24 * 60;
      const expected = minutesByCronParser(expression, from, minutes);
      const matched = new Set<number>();
      for (let i = 0; i < minutes; i++) {
        const at = from.getTime() + i * MINUTE;
        if (matcher(new Date(at))) matched.add(at);
      }
      expect(matched.size).toBeGreaterThan(0);
      expect([...matched]).toEqual([...expected]);
    },
    // a minute-by-minute walk through 40 days on both sides: seconds alone, minutes on a loaded machine
    120_000,
  );

  it('refuse what is not five fields of fixed values, with the reason', () => {
    for (const [expression, reason] of [
      ['0 * * * * *', 'five fields'],
      ['* * *', 'five fields'],
      ['0 0 L * *', 'day of the month'],
      ['0 0 * * 5#2', 'nth weekday'],
      ['61 * * * *', 'cron "61 * * * *"'],
      ['x * * * *', 'cron "x * * * *"'],
    ] as const) {
      const result = cronMatcher(expression);
      expect(result).toBeInstanceOf(Error);
      expect((result as Error).message).toContain(reason);
    }
  });
});
