import type { FastifyRequest } from 'fastify';
import { AppError, type FieldProblem } from '../errors.js';

/**
 * Text the platform refuses at the edge, for every route, before schema validation:
 *
 * - lone UTF-16 surrogates (`"x\ud800y"` in JSON): PostgreSQL cannot store them and fails the query;
 * - C0 control characters and DEL: NUL breaks PostgreSQL text, the others have no place in an API.
 *   JSON body strings may hold TAB, LF and CR, because the platform cannot tell a one-line field
 *   from a multi-line one (a module that wants one line says so in its schema). Query strings,
 *   path parameters and the headers the app reads allow none.
 *
 * Blank or zero-width-only text is a module rule, not checked here.
 */

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Any code unit that might be refused: every control character and every surrogate, paired or
 * not. Nearly all text has none, and the regexp engine scans it about twice as fast as the loop
 * below; the loop decides the rest.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is its job
const SUSPECT = /[\x00-\x1f\x7f\ud800-\udfff]/;

/** Why `text` is refused, or undefined when it is fine. */
export function badTextReason(text: string, multiLine: boolean): string | undefined {
  if (!SUSPECT.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) {
      if (multiLine && (c === TAB || c === LF || c === CR)) continue;
      return 'must not contain control characters';
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return 'must be valid Unicode (no lone surrogates)';
    }
  }
  return undefined;
}

/** JSON pointer segment (RFC 6901). */
const segment = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Every refused string (and object key) in a parsed value. Iterative, so a deeply nested body
 * cannot overflow the stack; stops after `max` findings.
 */
export function findBadText(value: unknown, root: string, multiLine: boolean, max = 20): FieldProblem[] {
  const found: FieldProblem[] = [];
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0 && found.length < max) {
    const [current, path] = stack.pop() as [unknown, string];
    if (typeof current === 'string') {
      const reason = badTextReason(current, multiLine);
      if (reason) found.push({ field: path, message: reason });
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], `${path}/${i}`]);
    } else if (current !== null && typeof current === 'object' && !Buffer.isBuffer(current)) {
      for (const [key, inner] of Object.entries(current)) {
        const at = `${path}/${segment(key)}`;
        const reason = badTextReason(key, false);
        if (reason) found.push({ field: at, message: `name ${reason}` });
        else stack.push([inner, at]);
      }
    }
  }
  return found;
}

/**
 * Headers the platform or a module reads as text; the rest pass through untouched. Not
 * `authorization`: wherever it is read, the auth guard refuses anything but RFC 6750's token
 * characters (auth.ts), which leaves no control character or surrogate, and answers 401 for it.
 */
const READ_HEADERS = ['idempotency-key', 'range', 'if-none-match', 'if-match', 'if-range'];

export class BadTextError extends AppError {
  /** Shaped like Fastify's validation error too, so a scope with its own error handler sees a 400. */
  readonly statusCode = 400;
  readonly validation: { instancePath: string; message: string; keyword: string; params: object }[];
  readonly validationContext = 'request';

  constructor(fields: FieldProblem[]) {
    super(
      'validation',
      'request.invalid-text',
      'Text in the request is not valid Unicode or holds control characters.',
      {
        fields,
      },
    );
    this.validation = fields.map((f) => ({
      instancePath: f.field,
      message: f.message,
      keyword: 'text',
      params: {},
    }));
  }
}

/**
 * True when `value` is surely fine without walking it: nothing, a fine string, or a flat object
 * of fine strings and other primitives (the params and query of nearly every request). Anything
 * else is left to findBadText. Allocates nothing, since it runs on every request.
 */
function plainlyFine(value: unknown, multiLine: boolean): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return badTextReason(value, multiLine) === undefined;
  if (typeof value !== 'object') return true;
  if (Array.isArray(value) || Buffer.isBuffer(value)) return false;
  const fields = value as Record<string, unknown>;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const inner = fields[key];
    if (badTextReason(key, false) !== undefined) return false;
    if (typeof inner === 'string') {
      if (badTextReason(inner, multiLine) !== undefined) return false;
    } else if (inner !== null && typeof inner === 'object') {
      return false;
    }
  }
  return true;
}

/** The preValidation check: throws BadTextError naming every refused field. */
export function checkRequestText(request: FastifyRequest): void {
  const found: FieldProblem[] = [];
  const { params, query, body } = request;
  if (!plainlyFine(params, false)) found.push(...findBadText(params, '/params', false));
  if (!plainlyFine(query, false)) found.push(...findBadText(query, '/querystring', false));
  if (!plainlyFine(body, true)) found.push(...findBadText(body, '/body', true));
  for (const name of READ_HEADERS) {
    const value = request.headers[name];
    if (typeof value !== 'string') continue;
    const reason = badTextReason(value, false);
    if (reason) found.push({ field: `/headers/${name}`, message: reason });
  }
  if (found.length > 0) throw new BadTextError(found);
}
