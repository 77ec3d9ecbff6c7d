import { type OutgoingHttpHeaders, ServerResponse, validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * Header names Node reads while it writes the header block (keep-alive, framing, the Date
 * header, content-disposition's encoding): those always go through Node's own path.
 */
const NODE_READS = new Set([
  'connection',
  'content-length',
  'transfer-encoding',
  'date',
  'expect',
  'trailer',
  'keep-alive',
  'content-disposition',
  'proxy-connection',
]);

/** Node's header-block writer; an underscored method, so not in @types/node. */
interface StoresHeader {
  _storeHeader: (firstLine: string, headers: OutgoingHttpHeaders | null) => void;
}

/** Node's writeHead with its three forms, called as it was given. */
interface WritesHead {
  writeHead: (...args: unknown[]) => unknown;
}

/**
 * A `ServerResponse` class (for `http.createServer({ ServerResponse })`) that writes the given
 * constant headers from a block built and validated once, instead of Node checking each name and
 * value with its regular expressions and appending it on every response (about 1.2 µs for the
 * security headers, the CSP alone is 300 characters).
 *
 * Only a header whose value is exactly the constant one is taken from the block; a route that
 * changes or removes one (swagger-ui's own CSP on /docs) is written the normal way, and so is
 * every other header, validated by Node as before. When headers were also set on the raw
 * response (Node then merges them itself) nothing is taken from the block. The bytes on the
 * wire are the same headers with the same values; only their order differs.
 *
 * Undefined when this Node has no `_storeHeader` to hook: the server then uses Node's own class.
 */
export function constantHeadersResponse(
  headers: readonly (readonly [string, string])[],
): typeof ServerResponse | undefined {
  const base = ServerResponse.prototype as unknown as Partial<StoresHeader>;
  if (typeof base._storeHeader !== 'function') return undefined;
  const constants = new Map<string, string>();
  for (const [name, value] of headers) {
    // what Node would check on every response, checked once: a bad constant fails start-up
    validateHeaderName(name);
    validateHeaderValue(name, value);
    if (name !== name.toLowerCase()) throw new Error(`constant header ${name} must be lower case`);
    if (NODE_READS.has(name)) throw new Error(`${name} cannot be a constant header: Node reads it`);
    constants.set(name, value);
  }
  const line = (name: string) => `${name}: ${constants.get(name) ?? ''}\r\n`;
  const whole = [...constants.keys()].map(line).join('');
  /** The lines of the constants a response kept as they were (some route changed the others). */
  const partialBlock = (given: OutgoingHttpHeaders) =>
    [...constants.keys()]
      .filter((name) => given[name] === constants.get(name))
      .map(line)
      .join('');

  class ConstantHeadersResponse extends ServerResponse {
    /** The constant lines this response writes after its status line. */
    private constantBlock = '';

    // Fastify calls writeHead(statusCode, its headers object); other forms go straight to Node
    override writeHead(
      statusCode: number,
      reason?: string | OutgoingHttpHeaders | readonly unknown[],
      headers?: OutgoingHttpHeaders | readonly unknown[],
    ): this {
      if (
        headers !== undefined ||
        typeof reason !== 'object' ||
        Array.isArray(reason) ||
        this.getHeaderNames().length > 0
      ) {
        this.constantBlock = '';
        return Reflect.apply((ServerResponse.prototype as unknown as WritesHead).writeHead, this, [
          statusCode,
          reason,
          headers,
        ]) as this;
      }
      const given = reason as OutgoingHttpHeaders;
      const rest: OutgoingHttpHeaders = {};
      let taken = 0;
      for (const name in given) {
        if (!Object.hasOwn(given, name)) continue;
        const value = given[name];
        if (value !== undefined && constants.get(name) === value) taken++;
        else rest[name] = value;
      }
      // the usual case is every constant as set: the block built at start
      this.constantBlock = taken === constants.size ? whole : partialBlock(given);
      return super.writeHead(statusCode, rest);
    }

    _storeHeader(firstLine: string, headers: OutgoingHttpHeaders | null): void {
      const write = (base as StoresHeader)._storeHeader;
      Reflect.apply(write, this, [this.constantBlock ? firstLine + this.constantBlock : firstLine, headers]);
    }
  }
  // @types/node types the option as generic over the request class; Node constructs it with its own
  return ConstantHeadersResponse as typeof ServerResponse;
}
