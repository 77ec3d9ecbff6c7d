import { describe, expect, it } from 'vitest';
import { addDays, backoffSeconds, localDayAndHour, quietUntil, zonedMidnight } from './schedule.js';
import { escapeHtml, render } from './templates.js';

describe('backoff', () => {
  it('doubles per failure, with jitter between half and all of it, capped', () => {
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n, 30, () => 1))).toEqual([30, 60, 120, 240]);
    expect([1, 2, 3, 4].map((n) => backoffSeconds(n, 30, () => 0))).toEqual([15, 30, 60, 120]);
    expect(backoffSeconds(40, 30, () => 1)).toBe(6 * 3600);
  });
});

describe('quiet hours', () => {
  const overnight = { start: 22 * 60, end: 7 * 60, timeZone: 'Asia/Shanghai' };
  it('delays to the end of a window that spans midnight, in the person’s time zone', () => {
    // 23:30 in Shanghai (UTC+8) is 15:30 UTC; the window ends at 07:00 local = 23:00 UTC
    expect(quietUntil(new Date('2026-03-01T15:30:00Z'), overnight)?.toISOString()).toBe(
      '2026-03-01T23:00:00.000Z',
    );
    expect(quietUntil(new Date('2026-03-01T20:15:00Z'), overnight)?.toISOString()).toBe(
      '2026-03-01T23:00:00.000Z',
    );
  });
  it('does not delay outside the window', () => {
    expect(quietUntil(new Date('2026-03-01T02:00:00Z'), overnight)).toBeUndefined(); // 10:00 local
    expect(quietUntil(new Date('2026-03-01T23:00:00Z'), overnight)).toBeUndefined(); // 07:00 local, the end
    expect(
      quietUntil(new Date('2026-03-01T02:00:00Z'), { start: 60, end: 60, timeZone: 'UTC' }),
    ).toBeUndefined();
  });
  it('answers each zone in its own time when zones alternate, and for more zones than the kept formatters', () => {
    const at = new Date('2026-03-01T15:30:00Z'); // 23:30 in Shanghai, 10:30 in New York, 15:30 in London
    const inZone = (timeZone: string) => quietUntil(at, { ...overnight, timeZone })?.toISOString();
    for (let round = 0; round < 3; round++) {
      expect(inZone('Asia/Shanghai')).toBe('2026-03-01T23:00:00.000Z');
      expect(inZone('America/New_York')).toBeUndefined();
      expect(inZone('Europe/London')).toBeUndefined();
    }
    // ICU takes a zone's name in any letter case: 1,100 spellings of one zone, then the first again
    const spellings = Array.from({ length: 1100 }, (_, i) =>
      Array.from('asia/shanghai', (c, j) => ((i >> j) & 1 ? c.toUpperCase() : c)).join(''),
    );
    for (const zone of new Set(spellings)) expect(inZone(zone)).toBe('2026-03-01T23:00:00.000Z');
    expect(inZone('America/New_York')).toBeUndefined();
  });
});

describe('templates', () => {
  it('escapes every variable in the HTML and keeps the text plain', () => {
    const r = render('course_rejected', { title: '<img src=x onerror=alert(1)>', reason: 'a & "b"' }, 'en');
    expect(r.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(r.html).toContain('a &amp; &quot;b&quot;');
    expect(r.html).not.toContain('<img');
    expect(r.text).toContain('“<img src=x onerror=alert(1)>” was not approved.');
    expect(escapeHtml(`'`)).toBe('&#39;');
  });
  it('formats money per locale', () => {
    const payload = {
      orderId: 'o1',
      total: 19_900,
      currency: 'CNY',
      paidAt: '2026-03-01T08:00:00.000Z',
      lines: [],
    };
    expect(render('order_receipt', payload, 'en').text).toContain('CN¥199.00');
    expect(render('order_receipt', payload, 'zh-CN').text).toContain('¥199.00');
  });
});

describe('local days', () => {
  it('finds local midnight in zones ahead of and behind UTC, across a DST change, and the local day and hour', () => {
    expect(zonedMidnight('2026-03-05', 'Asia/Shanghai').toISOString()).toBe('2026-03-04T16:00:00.000Z');
    expect(zonedMidnight('2026-03-05', 'UTC').toISOString()).toBe('2026-03-05T00:00:00.000Z');
    expect(zonedMidnight('2026-03-05', 'America/New_York').toISOString()).toBe('2026-03-05T05:00:00.000Z');
    // New York moves to daylight time on 2026-03-08 at 02:00: midnight of the 9th is 04:00Z
    expect(zonedMidnight('2026-03-09', 'America/New_York').toISOString()).toBe('2026-03-09T04:00:00.000Z');
    expect(zonedMidnight('2026-03-05', 'Asia/Kolkata').toISOString()).toBe('2026-03-04T18:30:00.000Z');
    expect(localDayAndHour(new Date('2026-03-06T00:05:00Z'), 'Asia/Shanghai')).toEqual({
      day: '2026-03-06',
      hour: 8,
    });
    expect(localDayAndHour(new Date('2026-03-06T00:05:00Z'), 'America/New_York')).toEqual({
      day: '2026-03-05',
      hour: 19,
    });
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });
});
