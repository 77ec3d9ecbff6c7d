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

function localMinutes(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en', {
    timeZone,
    hourCycle: 'h23',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
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
