import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

/**
 * Route schemas compiled the first time a route uses them, not at start: compiling an ajv
 * validator and a fast-json-stringify serializer for every route of every module is most of a
 * first start's CPU before `listen` (issue 9), and most routes see no request for a while.
 *
 * The compilers are Fastify's own defaults (the packages Fastify itself requires, so the same
 * versions), built with the same server options (`ajv`, `serializerOpts`) and the same shared
 * schemas; only the moment of compiling moves. A schema that does not compile now fails its first
 * request (a 500) instead of the start.
 */

type Schema = unknown;
interface RouteDefinition {
  schema: Schema;
  httpPart?: string;
}
/** An ajv validate function: Fastify reads `errors` after a failure and `schemaEnv` before a call. */
type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type Serialize = (data: unknown) => string;
type ValidatorFactory = (externalSchemas: unknown, options: unknown) => (route: RouteDefinition) => Validate;
type SerializerFactory = (
  externalSchemas: unknown,
  options: unknown,
) => (route: RouteDefinition) => Serialize;

// resolved from Fastify's own location, so these are exactly the compilers it would pick itself
const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
const defaultValidatorFactory = (fromFastify('@fastify/ajv-compiler') as () => ValidatorFactory)();
const defaultSerializerFactory = (
  fromFastify('@fastify/fast-json-stringify-compiler') as () => SerializerFactory
)();

/** Compiles of one server's stand-ins that have not run yet (see `compileRouteSchemas`). */
export type PendingCompiles = Set<() => unknown>;

/** A validator that compiles on its first call and then calls the compiled one. */
export function lazyValidator(compile: () => Validate, pending?: PendingCompiles): Validate {
  let compiled: Validate | undefined;
  const real = () => {
    if (!compiled) {
      compiled = compileOrFail(compile);
      pending?.delete(real);
    }
    return compiled;
  };
  pending?.add(real);
  const validate: Validate = (data, context) => {
    const fn = real();
    const result = fn(data, context);
    // Fastify reads the errors of the function it called, which is this one
    validate.errors = fn.errors;
    return result;
  };
  // Fastify passes the parent object (so ajv may coerce a root value) only to a function that
  // has a schemaEnv, and reads it just before the first call: compiling then costs nothing extra
  Object.defineProperty(validate, 'schemaEnv', { get: () => real().schemaEnv });
  return validate;
}

/**
 * Fastify answers an error thrown by a validator with the error's own code, and a code-less one
 * as a validation failure (a 400 naming ajv's words); a schema that does not compile is our fault:
 * Fastify's own code for it at start makes it a 500 that says nothing of the schema.
 */
function compileOrFail<F>(compile: () => F): F {
  try {
    return compile();
  } catch (err) {
    throw Object.assign(new Error('a route schema failed to compile', { cause: err }), {
      code: 'FST_ERR_SCH_VALIDATION_BUILD',
      statusCode: 500,
    });
  }
}

/** A serializer that compiles on its first call and then calls the compiled one. */
export function lazySerializer(compile: () => Serialize, pending?: PendingCompiles): Serialize {
  let compiled: Serialize | undefined;
  const real = () => {
    if (!compiled) {
      compiled = compile();
      pending?.delete(real);
    }
    return compiled;
  };
  pending?.add(real);
  return (data) => real()(data);
}

/**
 * Fastify lower-cases the header names of a header schema only for its default compiler, and a
 * compilers factory makes it count as custom; no route validates headers today, so a header schema
 * naming a header in capitals is refused at start rather than silently never matching.
 */
function assertLowerCaseHeaders(schema: Schema): void {
  if (schema === null || typeof schema !== 'object') return;
  const { properties, required } = schema as { properties?: unknown; required?: unknown };
  const names = [
    ...(properties !== null && typeof properties === 'object' ? Object.keys(properties) : []),
    ...(Array.isArray(required) ? required.filter((n): n is string => typeof n === 'string') : []),
  ];
  const upper = names.find((name) => name !== name.toLowerCase());
  if (upper !== undefined)
    throw new Error(`header schema names '${upper}': write header names in lower case`);
}

/**
 * The `schemaController` option of one server, and the compiles its routes have not needed yet:
 * `compileRouteSchemas` runs them (after `listen`, in the background, so no user's first request
 * pays for one, and in a test that proves every route's schemas compile).
 */
export function createLazySchemas(): {
  schemaController: NonNullable<FastifyServerOptions['schemaController']>;
  pending: PendingCompiles;
} {
  const pending: PendingCompiles = new Set();
  const buildValidator: ValidatorFactory = (externalSchemas, options) => {
    let compiler: ((route: RouteDefinition) => Validate) | undefined;
    return (route) => {
      if (route.httpPart === 'headers') assertLowerCaseHeaders(route.schema);
      // the ajv instance (with every shared schema added) is built once per factory, on first use
      return lazyValidator(
        () => (compiler ??= defaultValidatorFactory(externalSchemas, options))(route),
        pending,
      );
    };
  };
  // one fast-json-stringify compiler per schema: the default one drops a compiled schema's own $id
  // from the shared schemas it hands to later compiles, so compiling in request order must not
  // depend on which schema came first
  const buildSerializer: SerializerFactory = (externalSchemas, options) => (route) =>
    lazySerializer(() => defaultSerializerFactory(externalSchemas, options)(route), pending);
  return {
    // the factories above are typed loosely: Fastify's types describe ajv's and JTD's overloads
    schemaController: { compilersFactory: { buildValidator, buildSerializer } } as unknown as NonNullable<
      FastifyServerOptions['schemaController']
    >,
    pending,
  };
}

/**
 * Compile every stand-in still waiting, `batch` at a time with a turn of the event loop between
 * batches (requests keep being answered meanwhile). Resolves to the number compiled; a schema that
 * does not compile is reported to `onError` and the rest go on.
 */
export async function compileRouteSchemas(
  pending: PendingCompiles,
  onError: (err: unknown) => void,
  batch = 20,
): Promise<number> {
  let compiled = 0;
  while (pending.size > 0) {
    for (const compile of [...pending].slice(0, batch)) {
      pending.delete(compile);
      try {
        compile();
        compiled++;
      } catch (err) {
        onError(err);
      }
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return compiled;
}
