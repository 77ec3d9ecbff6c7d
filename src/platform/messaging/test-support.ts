import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';

/**
 * Poll until `condition` holds; fails after `timeoutMs` with `what` in the message.
 * Not `vi.waitFor`/`vi.waitUntil` yet: with either, jetstream-bus.test.ts "a restarted process
 * re-subscribes…" failed 5 of 12 runs against NATS (with this loop 0 of 8), so that test or
 * the bus has a timing race the loop happens to hide; swap once it is found.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export interface CapturedLog {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A logger that keeps its lines for assertions, at warn and above unless told otherwise. */
export function capturingLogger(level: pino.Level = 'warn'): { logger: Logger; lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const logger = pino(
    { level },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as CapturedLog);
      },
    },
  );
  return { logger, lines };
}

/** A stream name and subject prefix no other test file or dev server uses. */
export function isolatedStream(): { stream: string; subjectPrefix: string } {
  const tag = randomBytes(5).toString('hex');
  return { stream: `LECTERN_TEST_${tag}`, subjectPrefix: `lectern_test_${tag}` };
}
