import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

/**
 * `request.log` for one request. Fastify builds a pino child per request, and with the redaction
 * paths that child costs about 3 µs to build, yet most requests never log a line. This one
 * becomes a real child (same bindings: the request id) at its first line that the level lets
 * through.
 */
class LazyChildLogger {
  private real: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  private materialise(): Logger {
    this.real ??= this.parent.child(this.bindings);
    return this.real;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.materialise().child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    if (!this.real && !this.parent.isLevelEnabled(level)) return;
    const child = this.materialise();
    Reflect.apply(child[level], child, args);
  }

  get level(): string {
    return this.real?.level ?? this.parent.level;
  }

  set level(value: string) {
    this.materialise().level = value;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {
    // pino's silent level writes nothing
  }
}

function isPino(logger: FastifyBaseLogger): logger is FastifyBaseLogger & Logger {
  return typeof (logger as Partial<Logger>).isLevelEnabled === 'function';
}

/** Fastify's `childLoggerFactory`: a lazy child, or a real one when a route sets its own level. */
export function lazyChildLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  if (options.level !== undefined || !isPino(parent)) return parent.child(bindings, options);
  return new LazyChildLogger(parent, bindings);
}

/**
 * Fastify's two lines per request ("incoming request", "request completed") at debug instead of
 * info: at the default level a request that goes well writes nothing (and so never builds its
 * child logger). Errors are still logged by the problem handler and Fastify's own error paths.
 */
export class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    _request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      reply.log.error({ res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
      return;
    }
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}
