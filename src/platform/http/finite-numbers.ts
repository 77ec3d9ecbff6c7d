import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import { AppError } from '../errors.js';

/**
 * Query strings and path parameters arrive as text, and Ajv coerces `1e309` (or `Infinity`) into
 * a number without asking whether it is finite; its minimum and maximum checks then pass over it.
 * So every route whose query or params declare a number gets a check, after validation, that
 * refuses a non-finite one with the same 400 as any other bad field. Routes without numeric query
 * or path fields get nothing, so the hot path pays nothing.
 */

type Schema = Record<string, unknown>;
type Part = 'querystring' | 'params';

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function mayBeNumber(schema: unknown): boolean {
  if (!isSchema(schema)) return false;
  const type = schema.type;
  if (type === 'number' || type === 'integer') return true;
  if (Array.isArray(type) && type.some((t) => t === 'number' || t === 'integer')) return true;
  if (isSchema(schema.items) && mayBeNumber(schema.items)) return true;
  return ['anyOf', 'oneOf', 'allOf'].some((key) => {
    const branches = schema[key];
    return Array.isArray(branches) && branches.some(mayBeNumber);
  });
}

/** The top-level fields of a query or params schema that may hold a number. */
export function numericFields(schema: unknown): string[] {
  if (!isSchema(schema) || !isSchema(schema.properties)) return [];
  return Object.entries(schema.properties)
    .filter(([, field]) => mayBeNumber(field))
    .map(([name]) => name);
}

const notFinite = (value: unknown): boolean =>
  typeof value === 'number'
    ? !Number.isFinite(value)
    : Array.isArray(value) && value.some((v) => typeof v === 'number' && !Number.isFinite(v));

/** The onRoute hook: a finiteness check in front of the route's own preHandlers, where needed. */
export function guardFiniteNumbers(route: RouteOptions): void {
  const schema = route.schema as Schema | undefined;
  if (!schema) return;
  const checks: [Part, string[]][] = (['querystring', 'params'] as const)
    .map((part): [Part, string[]] => [part, numericFields(schema[part])])
    .filter(([, fields]) => fields.length > 0);
  if (checks.length === 0) return;
  const guard = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction) => {
    for (const [part, fields] of checks) {
      const values = (part === 'querystring' ? request.query : request.params) as Record<string, unknown>;
      const bad = fields.find((field) => notFinite(values[field]));
      if (bad !== undefined) {
        done(
          AppError.validation('request.invalid', 'The request does not match the schema.', [
            { field: `/${part}/${bad}`, message: 'must be a finite number' },
          ]),
        );
        return;
      }
    }
    done();
  };
  const own = route.preHandler;
  route.preHandler = own === undefined ? [guard] : [guard, ...(Array.isArray(own) ? own : [own])];
}
