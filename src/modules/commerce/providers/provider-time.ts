/**
 * Chinese providers write local times in China Standard Time (UTC+8, no daylight saving) without
 * a zone (Alipay) or with `+08:00` (WeChat Pay). We keep UTC and convert only at this edge.
 */
const CST_OFFSET_MS = 8 * 3600 * 1000;

const pad = (n: number): string => String(n).padStart(2, '0');

function cstParts(date: Date): { day: string; time: string } {
  const d = new Date(date.getTime() + CST_OFFSET_MS);
  return {
    day: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
  };
}

/** `2026-01-01 08:00:00` for 2026-01-01T00:00:00Z (Alipay's `yyyy-MM-dd HH:mm:ss`). */
export function toChinaTime(date: Date): string {
  const { day, time } = cstParts(date);
  return `${day} ${time}`;
}

/** `2026-01-01T08:00:00+08:00` for 2026-01-01T00:00:00Z (WeChat Pay's RFC 3339). */
export function toChinaRfc3339(date: Date): string {
  const { day, time } = cstParts(date);
  return `${day}T${time}+08:00`;
}

/** Alipay's `yyyy-MM-dd HH:mm:ss` in China time; undefined when it is not one. */
export function parseChinaTime(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const utc = Date.UTC(y, mo - 1, d, h, mi, s) - CST_OFFSET_MS;
  const date = new Date(utc);
  // Date.UTC rolls 2026-02-30 over into March; a real timestamp never needs that
  return toChinaTime(date) === text ? date : undefined;
}

/** An RFC 3339 time with an explicit offset; undefined when it is not one (2026-02-30 included). */
export function parseRfc3339(text: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (!m) return undefined;
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return undefined;
  // Date rolls impossible days over into the next month; the wall time must read back the same
  const offsetMs = m[4] === 'Z' ? 0 : (m[5] === '-' ? -1 : 1) * (Number(m[6]) * 60 + Number(m[7])) * 60_000;
  const wall = new Date(date.getTime() + offsetMs).toISOString();
  return wall.slice(0, 10) === m[1] && wall.slice(11, 19) === m[2] ? date : undefined;
}
