/** Injectable time, so tests move past expiries instead of sleeping. Always read as UTC. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

export const addSeconds = (date: Date, seconds: number): Date => new Date(date.getTime() + seconds * 1000);

/** Whole seconds since the Unix epoch (JWT `iat`/`exp`, TOTP counters). */
export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/** A clock that stands still until a test moves it. */
export interface TestClock extends Clock {
  /** Move forward (or back, with a negative number) by this many seconds. */
  advance(seconds: number): void;
  set(date: Date): void;
}

export function createTestClock(start: Date = new Date('2026-01-01T00:00:00.000Z')): TestClock {
  let now = start.getTime();
  // a fresh Date each call, so a caller mutating the one it got cannot move the clock
  const clock = (() => new Date(now)) as TestClock;
  clock.advance = (seconds) => {
    now += seconds * 1000;
  };
  clock.set = (date) => {
    now = date.getTime();
  };
  return clock;
}
