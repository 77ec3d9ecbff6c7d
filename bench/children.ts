// The server processes bench/run.ts forks, seen from the parent: start, ask, stop, and kill them
// when the parent exits. Each speaks bench/protocol.ts over the IPC channel.
import { type ChildProcess, fork } from 'node:child_process';
import { buildSync } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { GcTrace } from './gc-trace.js';
import type {
  BenchActResult,
  BenchRequest,
  FromChild,
  Question,
  ReadyInfo,
  RssReport,
  ToChild,
} from './protocol.js';

/** Children not yet exited; run.ts kills them when it exits. */
export const live = new Set<Child>();
/** Lines of a child's output echoed here; the rest is kept only for error messages. */
const MAX_FORWARDED = 40;

interface Pending {
  resolve: (message: FromChild) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** A pino JSON line as `level msg: err.message`; anything else cut to one screen line. */
function compactLogLine(line: string): string {
  if (line.startsWith('{')) {
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      const level = entry.level === undefined ? 'log' : (LEVELS[entry.level] ?? String(entry.level));
      return `${level} ${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`;
    } catch {
      // not JSON after all
    }
  }
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * The child script bundled to plain JavaScript (as `npm start` runs Lectern, see `npm run build`),
 * so the bench measures what production runs and not tsx's loader and its memory.
 */
function compiled(script: string): string {
  const outfile = path.join(import.meta.dirname, 'results', 'build', script.replace(/\.ts$/, '.js'));
  buildSync({
    entryPoints: [path.join(import.meta.dirname, script)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  return outfile;
}

/** A forked server speaking bench/protocol.ts; killed when this process exits, whatever the reason. */
export class Child {
  readonly ready: Promise<ReadyInfo>;
  readonly exited: Promise<void>;
  private readonly proc: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private readonly tail: string[] = [];
  private nextId = 1;
  private forwarded = 0;
  private lastLine = '';
  private alive = true;
  private dataDir: string | undefined;

  constructor(
    readonly label: string,
    script: string,
    startTimeoutMs: number,
    env: NodeJS.ProcessEnv = process.env,
    /** Extra Node flags, e.g. `--cpu-prof` for `npm run bench -- --profile`. */
    nodeFlags: string[] = [],
    /** With `--trace-gc` among the flags: where the collector's lines go instead of the output. */
    readonly gcTrace?: GcTrace,
  ) {
    this.proc = fork(compiled(script), [], {
      execArgv: nodeFlags,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env,
    });
    live.add(this);
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      if (stream)
        readline.createInterface({ input: stream }).on('line', (line) => {
          this.output(line);
        });
    }
    this.proc.on('error', (err) => {
      this.output(`process error: ${err.message}`);
    });

    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.alive = false;
        live.delete(this);
        this.removeDataDir();
        const why = new Error(`${label} exited (${signal ?? `code ${code}`})${this.tailText()}`);
        for (const pending of this.pending.values()) {
          clearTimeout(pending.timer);
          pending.reject(why);
        }
        this.pending.clear();
        if (this.forwarded > MAX_FORWARDED) {
          process.stderr.write(
            `[${label}] … ${this.forwarded - MAX_FORWARDED} more output lines not shown\n`,
          );
        }
        resolve();
      });
    });

    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${label} did not start within ${startTimeoutMs / 1000} s${this.tailText()}`));
      }, startTimeoutMs);
      this.proc.on('message', (raw) => {
        const message = raw as FromChild;
        if (message.type === 'ready') {
          clearTimeout(timer);
          this.dataDir = message.dataDir;
          resolve(message);
        } else if (message.type === 'fatal') {
          clearTimeout(timer);
          reject(new Error(`${label} failed to start:\n${message.error}`));
        } else {
          this.settle(message);
        }
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${label} exited before it was ready${this.tailText()}`));
      });
    });
  }

  async rss(reset: boolean): Promise<RssReport> {
    const answer = await this.request({ type: 'rss', reset }, 30_000);
    if (answer.type !== 'rss') throw new Error(`unexpected answer ${answer.type}`);
    return answer;
  }

  async prepare(name: string): Promise<BenchRequest> {
    const answer = await this.request({ type: 'prepare', name }, 120_000);
    if (answer.type === 'failed') throw new Error(answer.error);
    if (answer.type !== 'prepared') throw new Error(`unexpected answer ${answer.type}`);
    return answer.request;
  }

  async act(name: string, round: number): Promise<BenchActResult> {
    const answer = await this.request({ type: 'act', name, round }, 300_000);
    if (answer.type === 'failed') throw new Error(answer.error);
    if (answer.type !== 'acted') throw new Error(`unexpected answer ${answer.type}`);
    return answer.result;
  }

  /** Ask it to stop; kill it when it has not exited after 15 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous last resort, for the `exit` handler. */
  killNow(): void {
    if (this.alive) this.proc.kill('SIGKILL');
    this.removeDataDir();
  }

  private request(message: Question, timeoutMs: number) {
    const id = this.nextId++;
    return new Promise<FromChild>((resolve, reject) => {
      if (!this.alive) {
        reject(new Error(`${this.label} is not running`));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label} did not answer "${message.type}" within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ ...message, id });
    });
  }

  private settle(message: FromChild): void {
    if (!('id' in message)) return;
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    clearTimeout(pending.timer);
    pending.resolve(message);
  }

  private send(message: ToChild): void {
    if (!this.proc.connected) return;
    try {
      this.proc.send(message);
    } catch {
      // the channel closed under us; the exit handler settles what is pending
    }
  }

  private output(raw: string): void {
    if (this.gcTrace?.take(raw)) return;
    const line = compactLogLine(raw);
    this.tail.push(line);
    if (this.tail.length > 60) this.tail.shift();
    // the same line over and over (a failing timer, an error per request) is shown once
    if (line === this.lastLine) return;
    this.lastLine = line;
    if (this.forwarded++ < MAX_FORWARDED) process.stderr.write(`[${this.label}] ${line}\n`);
  }

  private tailText(): string {
    return this.tail.length > 0 ? `; last output:\n${this.tail.join('\n')}` : '';
  }

  private removeDataDir(): void {
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }
}
