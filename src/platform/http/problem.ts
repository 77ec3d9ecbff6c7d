import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError, type FieldProblem, statusOfKind } from '../errors.js';

/** RFC 9457 problem details, plus Lectern's stable `code` and the offending `fields`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    code: Type.String(),
    fields: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }))),
    requestId: Type.Optional(Type.String()),
  },
  {
    $id: 'Problem',
    description: 'RFC 9457 problem details',
    // RFC 9457's extension members: what a rule's answer adds (`left`, `available`, `retryAfterSeconds`)
    additionalProperties: true,
  },
);

/** A route's error response: a reference to the shared Problem schema. */
export const ProblemRef = Type.Ref('Problem');
/** `security` of a route that needs `Authorization: Bearer <access token>`. */
export const bearerSecurity = [{ bearer: [] }];

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: string;
  fields?: FieldProblem[];
  requestId?: string;
  [extra: string]: unknown;
}

// Node's reason phrases, except the two RFC 9110 renamed (Node still says "Payload Too Large"
// and "Unprocessable Entity"), so a title does not change with the Node version.
const renamedByRfc9110: Record<number, string> = {
  413: 'Content Too Large',
  422: 'Unprocessable Content',
};

/** The RFC 9110 reason phrase of `status`, the problem's `title`. */
export function statusTitle(status: number): string {
  return renamedByRfc9110[status] ?? STATUS_CODES[status] ?? 'Error';
}

export function problem(
  status: number,
  code: string,
  detail?: string,
  extra: Partial<Problem> = {},
): Problem {
  return {
    type: `https://lectern.dev/problems/${code}`,
    title: statusTitle(status),
    status,
    ...(detail === undefined ? {} : { detail }),
    code,
    ...extra,
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, p: Problem): FastifyReply {
  // set here too: a hook that refuses a request early may run before the one that sets it
  return reply
    .header('x-request-id', request.id)
    .status(p.status)
    .type('application/problem+json; charset=utf-8')
    .send({ ...p, instance: request.url.split('?')[0], requestId: request.id });
}

// Fastify's own error codes that a client can cause, mapped to a status and a stable code.
const fastifyCodes: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'request.body-too-large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'request.unsupported-media-type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'request.invalid-content-length'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'request.empty-json-body'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'request.invalid-json'],
  FST_ERR_CTP_EMPTY_TYPE: [415, 'request.unsupported-media-type'],
  FST_ERR_CTP_INVALID_TYPE: [415, 'request.unsupported-media-type'],
  FST_ERR_BAD_URL: [400, 'request.bad-url'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'request.param-too-long'],
  FST_ERR_VALIDATION: [400, 'request.invalid'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'request.bad-constraint'],
  FST_REQ_FILE_TOO_LARGE: [413, 'request.file-too-large'],
  FST_PARTS_LIMIT: [413, 'request.too-many-parts'],
  FST_FILES_LIMIT: [413, 'request.too-many-files'],
  FST_FIELDS_LIMIT: [413, 'request.too-many-fields'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'request.not-multipart'],
};

function validationFields(error: FastifyError): FieldProblem[] {
  const context = error.validationContext ?? 'body';
  return (error.validation ?? []).map((v) => {
    const params = v.params as { missingProperty?: string; additionalProperty?: string } | undefined;
    const named = params?.missingProperty ?? params?.additionalProperty;
    const pointer = v.instancePath + (named ? `/${named}` : '');
    const message = params?.additionalProperty
      ? 'is not a field of this request'
      : (v.message ?? 'is invalid');
    return { field: `/${context}${pointer}`, message };
  });
}

/**
 * A value PostgreSQL refused as data: class 22 (invalid text for the column's type, out of range,
 * NUL, bad encoding) and 54000 (a value too long for an index). Only a client's value gets that
 * far without a schema stopping it, so it is the client's 400, not our 500; the log still says
 * which query let it through (a module's schema or cursor shape should catch it earlier).
 */
export function isRefusedValue(error: unknown): boolean {
  if (!(error instanceof Error) || !('severity' in error)) return false;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (/^22[0-9A-Z]{3}$/.test(code) || code === '54000');
}

/** Turn any thrown error into problem+json. Nothing internal leaks for 5xx. */
export function toProblem(error: unknown): Problem {
  if (isRefusedValue(error)) {
    return problem(400, 'request.invalid-value', 'A value in the request is not one this field can hold.');
  }
  if (error instanceof AppError) {
    const { fields, ...rest } = error.details;
    return problem(statusOfKind[error.kind], error.code, error.message, {
      ...rest,
      ...(fields ? { fields } : {}),
    });
  }
  const fe = error as FastifyError;
  if (fe.validation) {
    return problem(400, 'request.invalid', 'The request does not match the schema.', {
      fields: validationFields(fe),
    });
  }
  const mapped = fe.code ? fastifyCodes[fe.code] : undefined;
  if (mapped) return problem(mapped[0], mapped[1], fe.message);
  if (fe.statusCode === 429) return problem(429, 'request.rate-limited', fe.message);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return problem(fe.statusCode, 'request.rejected', fe.message);
  }
  return problem(500, 'internal', 'Something went wrong on our side. The request id helps us find it.');
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (a path that is not valid
 * percent-encoding, a too-long parameter) answer problem+json like everything else.
 */
export function frameworkErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendProblem(request, reply, toProblem(error));
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (a header too large, a
 * control character in a header, a malformed request line) never reaches a route, so this
 * writes the problem+json answer on the socket itself, as Fastify's default does with plain JSON.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request.headers-too-large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request.timeout']
        : [400, 'request.malformed-http'];
  const body = JSON.stringify(problem(status, code, 'The HTTP request could not be read.'));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${statusTitle(status)}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const p = toProblem(error);
    if (p.status >= 500) request.log.error({ err: error }, 'request failed');
    else if (p.code === 'request.invalid-value') request.log.warn({ err: error }, 'database refused a value');
    else request.log.info({ code: p.code, status: p.status }, 'request refused');
    if (p.status === 429 && reply.getHeader('retry-after') === undefined) reply.header('retry-after', '60');
    return sendProblem(request, reply, p);
  });

  app.setNotFoundHandler((request, reply) => {
    const url = request.url.split('?')[0] ?? '/';
    const allowed = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter(
      // findRoute's declared type omits the null it returns for no match
      (method) => method !== request.method && (app.findRoute({ method, url }) as unknown) !== null,
    );
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendProblem(
        request,
        reply,
        problem(405, 'request.method-not-allowed', `${request.method} is not allowed here.`),
      );
    }
    return sendProblem(
      request,
      reply,
      problem(404, 'request.no-such-route', `No route ${request.method} ${url}.`),
    );
  });
}
