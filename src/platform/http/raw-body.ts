import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Keep the exact request bytes in `request.rawBody` (payment notifications, whose signature
     * covers the bytes as sent) and accept `application/x-www-form-urlencoded` bodies.
     */
    rawBody?: boolean;
  }
  interface FastifyRequest {
    /** The body exactly as received; set only on routes with `config: { rawBody: true }`. */
    rawBody?: Buffer;
  }
}

const FORM = 'application/x-www-form-urlencoded';

const wantsRawBody = (request: FastifyRequest): boolean => request.routeOptions.config.rawBody === true;

/**
 * A form body as an object of strings, the way `URLSearchParams` decodes it (UTF-8, `+` is a
 * space). A key sent twice is refused: a signature check and the code after it could otherwise
 * read different values of the same field.
 */
export function parseFormBody(body: string): Record<string, string> {
  const fields = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(body)) {
    if (fields.has(key)) {
      throw AppError.validation(
        'request.duplicate-form-field',
        `Form field ${JSON.stringify(key)} appears twice.`,
        [{ field: `/body/${key}`, message: 'appears more than once' }],
      );
    }
    fields.set(key, value);
  }
  // fromEntries defines own properties, so a `__proto__` field is data, not a prototype
  return Object.fromEntries(fields);
}

/**
 * Let routes opt in to raw body capture with `config: { rawBody: true }`. Call once on the root
 * instance (or a scope) before routes are added. It replaces the JSON parser with one that reads
 * the bytes, keeps them for opted-in routes and then parses exactly as Fastify's own parser does
 * (same prototype-poisoning rules), so other routes see no difference. Form bodies are parsed
 * for opted-in routes only; any other route still answers 415 to them.
 */
export function registerRawBody(app: FastifyInstance): void {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  const parseJson = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);

  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (wantsRawBody(request)) request.rawBody = bytes;
    void parseJson(request, bytes.toString('utf8'), done);
  });

  app.addContentTypeParser(FORM, { parseAs: 'buffer' }, (request, body, done) => {
    if (!wantsRawBody(request)) {
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(FORM), undefined);
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      done(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE(`${FORM}; charset=${charset}`), undefined);
      return;
    }
    const bytes = body as Buffer;
    request.rawBody = bytes;
    try {
      done(null, parseFormBody(bytes.toString('utf8')));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
}
