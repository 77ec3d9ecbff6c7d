import { LRUCache } from 'lru-cache';

/**
 * When outside messages go: retry backoff and quiet hours. Pure functions of the time handed in,
 * so tests pass a time instead of waiting.
 */

/** Retries wait base·2^(n−1) seconds, cut to 50–100 % at random so a failed batch does not retry in step. */
export function backoffSeconds(
  failedAttempts: number,
  baseSeconds: number,
  random: () => number = Math.random,
  capSeconds = 6 * 3600,
): number {
  const exponential = Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, failedAttempts - 1));
  return Math.max(1, Math.round(exponential * (0.5 + random() * 0.5)));
}

export interface QuietHours {
  /** Minutes after local midnight. */
  start: number;
  end: number;
  timeZone: string;
}

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The parts each computation below reads, as formatter options. */
const SHAPES = {
  minutes: { hourCycle: 'h23', hour: '2-digit', minute: '2-digit' },
  dayAndHour: { hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit' },
  wallClock: {
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  },
} satisfies Record<string, Intl.DateTimeFormatOptions>;

/**
 * Formatters by shape and time zone, made once: making one costs ~80 µs (ICU loads the zone's
 * rules), using one ~2 µs, and every delivery asks for its recipient's local time. Zones come
 * from stored preferences and ICU accepts many spellings of one zone, so the least recently used
 * ones go past a bound.
 */
const zoneFormats = new LRUCache<string, Intl.DateTimeFormat>({ max: 1000 });
function zoned(timeZone: string, shape: keyof typeof SHAPES): Intl.DateTimeFormat {
  const key = `${shape} ${timeZone}`;
  let format = zoneFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat('en', { timeZone, ...SHAPES[shape] });
    zoneFormats.set(key, format);
  }
  return format;
}

function localMinutes(at: Date, timeZone: string): number {
  const parts = zoned(timeZone, 'minutes').formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * The moment quiet hours end when `at` falls inside them, else undefined. A window may span
 * midnight (22:00–07:00). Computed in whole minutes of local time, so a DST jump inside the
 * window moves the end by that hour at most.
 */
export function quietUntil(at: Date, quiet: QuietHours): Date | undefined {
  if (quiet.start === quiet.end) return undefined;
  const now = localMinutes(at, quiet.timeZone);
  const inside =
    quiet.start < quiet.end ? now >= quiet.start && now < quiet.end : now >= quiet.start || now < quiet.end;
  if (!inside) return undefined;
  const minutesLeft = (quiet.end - now + 1440) % 1440;
  const end = new Date(at.getTime() + minutesLeft * 60_000);
  end.setUTCSeconds(0, 0);
  return end;
}

export const parseClockTime = (text: string): number => {
  const [h, m] = text.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

export const formatClockTime = (minutes: number): string =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** The local calendar day (YYYY-MM-DD) and hour (0–23) of `at` in `timeZone`. */
export function localDayAndHour(at: Date, timeZone: string): { day: string; hour: number } {
  const parts = zoned(timeZone, 'dayAndHour').formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return { day: `${get('year')}-${get('month')}-${get('day')}`, hour: Number(get('hour')) };
}

/** The day `n` days after `day` (YYYY-MM-DD, a calendar day: no time zone involved). */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + n)).toISOString().slice(0, 10);
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in milliseconds. */
function offsetMs(at: Date, timeZone: string): number {
  const parts = zoned(timeZone, 'wallClock').formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The instant local midnight starts `day` in `timeZone`. The offset is read twice, at the UTC
 * midnight guess and at the first answer, so a DST change between the two is taken into account
 * (no zone changes its clocks at midnight and again within the same few hours).
 */
export function zonedMidnight(day: string, timeZone: string): Date {
  const guess = Date.parse(`${day}T00:00:00.000Z`);
  const first = guess - offsetMs(new Date(guess), timeZone);
  return new Date(guess - offsetMs(new Date(first), timeZone));
}
