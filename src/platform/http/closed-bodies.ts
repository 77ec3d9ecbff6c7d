import type { RouteOptions } from 'fastify';

/**
 * JSON request bodies are closed: a field the schema does not name is a 400 naming it, rather
 * than being dropped without a word (a client that misspells `priceAmount` must hear about it).
 * A schema that says `additionalProperties` (or `patternProperties`) itself keeps its choice.
 * Form bodies (OAuth, RFC 6749 §3.2) stay open: that RFC tells servers to ignore parameters they
 * do not know. So do routes that take a signed body as raw bytes (`config.rawBody`: payment
 * notifications, webhooks): the sender owns that format and adds fields to it without notice.
 * `allOf` branches are left alone, since closing each would refuse the others' fields.
 */

type Schema = Record<string, unknown>;

const isSchema = (value: unknown): value is Schema =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** A copy of `schema` with every object that does not say otherwise closed. */
export function closeObjects(schema: unknown): unknown {
  if (!isSchema(schema)) return schema;
  const out: Schema = { ...schema };
  const isObject = schema.type === 'object' || isSchema(schema.properties);
  if (isObject && !('additionalProperties' in schema) && !('patternProperties' in schema)) {
    out.additionalProperties = false;
  }
  if (isSchema(schema.properties)) {
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([key, value]) => [key, closeObjects(value)]),
    );
  }
  if (isSchema(schema.items)) out.items = closeObjects(schema.items);
  for (const key of ['anyOf', 'oneOf'] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) out[key] = branches.map(closeObjects);
  }
  return out;
}

const isJson = (type: string) => /^application\/([\w.+-]+\+)?json\b/i.test(type);

/** The onRoute hook: close the body schema of every route that takes JSON. */
export function closeJsonBodies(route: RouteOptions): void {
  const schema = route.schema as (Schema & { consumes?: unknown }) | undefined;
  if (!schema || !isSchema(schema.body)) return;
  const config = route.config as { rawBody?: unknown } | undefined;
  if (config?.rawBody === true) return;
  const consumes = schema.consumes;
  if (Array.isArray(consumes) && !consumes.some((t) => typeof t === 'string' && isJson(t))) return;
  schema.body = closeObjects(schema.body);
}
