import { describe, expect, it } from 'vitest';
import { addSeconds, createTestClock, epochSeconds, systemClock } from './clock.js';

describe('clock', () => {
  it('a test clock stands still until moved, forward and back', () => {
    const clock = createTestClock(new Date('2026-03-01T10:00:00Z'));
    expect(clock().toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(clock().toISOString()).toBe('2026-03-01T10:00:00.000Z');
    clock.advance(90);
    expect(clock().toISOString()).toBe('2026-03-01T10:01:30.000Z');
    clock.advance(-30);
    expect(clock().toISOString()).toBe('2026-03-01T10:01:00.000Z');
    clock.set(new Date('2027-01-01T00:00:00Z'));
    expect(clock().toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('mutating a returned date does not move the clock', () => {
    const clock = createTestClock(new Date('2026-03-01T10:00:00Z'));
    clock().setUTCFullYear(1999);
    expect(clock().toISOString()).toBe('2026-03-01T10:00:00.000Z');
  });

  it('addSeconds and epochSeconds', () => {
    const d = new Date('2026-03-01T10:00:00.900Z');
    expect(addSeconds(d, 3600).toISOString()).toBe('2026-03-01T11:00:00.900Z');
    expect(epochSeconds(d)).toBe(Date.UTC(2026, 2, 1, 10) / 1000);
  });

  it('the system clock is the real time', () => {
    const before = Date.now();
    const now = systemClock().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});
