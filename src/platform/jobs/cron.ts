import cronParser from 'cron-parser';

/**
 * Whether a 5-field cron expression names a given UTC minute. The expression is parsed once, by
 * cron-parser (the parser pg-boss itself uses), into the set of each field's values; a check is
 * then a few set lookups. pg-boss's own cron check asks cron-parser for the schedule's previous
 * time instead, a search backwards through the calendar in luxon dates: 22–110 ms of the event
 * loop for the platform's ten schedules, every 30 s, in the process that serves requests too.
 */
export type CronMatcher = (minute: Date) => boolean;

/** The most days a month has, February counted as 29 (as cron-parser counts it). */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** cron-parser's values of a day-of-week field that names every day: 0 to 7 (Sunday twice). */
const EVERY_WEEKDAY = 8;

/**
 * A matcher for `expression`, or an Error saying why it is not one this platform runs: five fields
 * (minute, hour, day of month, month, day of week), numbers, names, ranges, steps and lists; not
 * seconds, `L` or `#`, whose meaning is not a fixed set of values.
 */
export function cronMatcher(expression: string): CronMatcher | Error {
  if (expression.trim().split(/\s+/).length !== 5) {
    return new Error(`cron "${expression}": five fields (minute hour day-of-month month day-of-week)`);
  }
  if (expression.includes('#')) return new Error(`cron "${expression}": "#" (nth weekday) is not supported`);
  const numbers = (values: readonly (number | string)[], what: string): Set<number> => {
    if (!values.every((v) => typeof v === 'number')) {
      throw new Error(`${what} takes numbers, names, ranges and steps only`);
    }
    return new Set(values);
  };
  let m: Set<number>, h: Set<number>, dom: Set<number>, mon: Set<number>, dow: Set<number>;
  let anyDayOfWeek: boolean;
  try {
    const fields = cronParser.parseExpression(expression, { tz: 'UTC' }).fields;
    anyDayOfWeek = fields.dayOfWeek.length === EVERY_WEEKDAY;
    m = numbers(fields.minute, 'the minute');
    h = numbers(fields.hour, 'the hour');
    dom = numbers(fields.dayOfMonth, 'the day of the month');
    mon = numbers(fields.month, 'the month');
    // cron-parser keeps Sunday as both 0 and 7
    dow = numbers(
      fields.dayOfWeek.map((d) => (d === 7 ? 0 : d)),
      'the day of the week',
    );
  } catch (err) {
    return new Error(`cron "${expression}": ${err instanceof Error ? err.message : String(err)}`);
  }
  // as cron-parser reads the two day fields: when both are restricted, either one names the day;
  // a field that names every day (of that month, for the day of the month) leaves it to the other
  return (minute) => {
    if (!m.has(minute.getUTCMinutes()) || !h.has(minute.getUTCHours())) return false;
    if (!mon.has(minute.getUTCMonth() + 1)) return false;
    const byMonth = dom.has(minute.getUTCDate());
    const byWeek = dow.has(minute.getUTCDay());
    const anyDayOfMonth = dom.size >= (DAYS_IN_MONTH[minute.getUTCMonth()] ?? 31);
    if (anyDayOfMonth && anyDayOfWeek) return true;
    if (anyDayOfMonth) return byWeek;
    if (anyDayOfWeek) return byMonth;
    return byMonth || byWeek;
  };
}
