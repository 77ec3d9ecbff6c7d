import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { vi } from 'vitest';

/**
 * Poll until `condition` holds; fails after `timeoutMs` with `what` in the message. A thin wrapper
 * over vitest's `vi.waitFor` (which polls until the callback stops throwing), kept because some
 * thirty call sites read better with a condition and a name than with a throwing callback.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  await vi.waitFor(
    async () => {
      if (!(await condition())) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 20 },
  );
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
