import type { SwaggerOptions } from '@fastify/swagger';
import type { Config } from '../config.js';

/**
 * The OpenAPI document's platform-wide parts, so that `/openapi.json` lints clean (Redocly's
 * `recommended` rules) without every module repeating them: a stable `operationId` derived from
 * method and path where a route names none, `security: []` on routes that declare no guard, a
 * problem+json 400 where a route lists no 4xx, a 200 where it lists no success answer, `servers`
 * and the license.
 */

type Json = Record<string, unknown>;

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

const isObject = (value: unknown): value is Json =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** `GET /api/v1/courses/{id}/chapters` → `getCoursesByIdChapters`; `/.well-known/jwks.json` → `getWellKnownJwksJson`. */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .replace(/^\/api\/v\d+/, '')
    .split('/')
    .filter((s) => s.length > 0)
    .flatMap((segment) => {
      const param = /^\{(.+)\}$/.exec(segment)?.[1];
      const parts = (param ?? segment).split(/[^A-Za-z0-9]+/).filter((p) => p.length > 0);
      return param ? ['By', ...parts.map(capital)] : parts.map(capital);
    });
  return method.toLowerCase() + words.join('');
}

const problemAnswer = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** Fill in what the platform can say for every operation. Mutates and returns `document`. */
export function completeDocument(document: Json, publicUrl: string | undefined): Json {
  document.servers = [{ url: publicUrl ?? '/', description: 'This Lectern instance' }];
  const info = isObject(document.info) ? document.info : {};
  document.info = {
    ...info,
    license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
  };
  const used = new Set<string>();
  const seen = new Set<Json>();
  const paths = isObject(document.paths) ? document.paths : {};
  for (const [path, item] of Object.entries(paths)) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const found = item[method];
      if (!isObject(found)) continue;
      // Fastify's HEAD route shares its GET's schema object: give it its own before changing it
      const op = seen.has(found) ? { ...found } : found;
      seen.add(op);
      item[method] = op;
      // a HEAD route Fastify adds beside a GET inherits the GET's id: it needs one of its own
      if (typeof op.operationId !== 'string' || used.has(op.operationId)) {
        const base = operationIdOf(method, path);
        let id = base;
        for (let n = 2; used.has(id); n++) id = `${base}${n}`;
        op.operationId = id;
      }
      used.add(op.operationId as string);
      // a route without a declared guard is public: say so, rather than inherit nothing
      if (!('security' in op)) op.security = [];
      const responses = isObject(op.responses) ? op.responses : {};
      const codes = Object.keys(responses);
      if (!codes.some((c) => /^[23]/.test(c))) responses['200'] = { description: 'Done' };
      if (!codes.some((c) => c.startsWith('4'))) {
        responses['400'] = problemAnswer('The request is not valid (problem+json with the offending fields)');
      }
      op.responses = responses;
    }
  }
  dropUnusedSecuritySchemes(document);
  return document;
}

/** A scheme no operation names is noise to a reader (and a linter): list only the used ones. */
function dropUnusedSecuritySchemes(document: Json): void {
  const components = isObject(document.components) ? document.components : {};
  const schemes = components.securitySchemes;
  if (!isObject(schemes)) return;
  const used = new Set<string>();
  const collect = (security: unknown) => {
    if (!Array.isArray(security)) return;
    for (const requirement of security)
      if (isObject(requirement)) for (const k of Object.keys(requirement)) used.add(k);
  };
  collect(document.security);
  for (const item of Object.values(isObject(document.paths) ? document.paths : {})) {
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (isObject(op)) collect(op.security);
    }
  }
  components.securitySchemes = Object.fromEntries(Object.entries(schemes).filter(([name]) => used.has(name)));
}

export function openApiOptions(config: Config): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Lectern API',
        version: '1',
        description:
          'Backend of a knowledge-payment platform. Errors are RFC 9457 problem+json with a stable `code`. ' +
          'Lists use keyset pagination (`limit`, `cursor` → `nextCursor`).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          clientBasic: {
            type: 'http',
            scheme: 'basic',
            description: 'OAuth client id and secret (RFC 6749 §2.3.1)',
          },
        },
      },
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
    transformObject: (documentObject) => {
      // this app only produces OpenAPI 3 documents, never Swagger 2
      const document = 'openapiObject' in documentObject ? documentObject.openapiObject : {};
      return completeDocument(document, config.publicUrl);
    },
  };
}
