import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/platform/http/pagination.js';
import { buildAllModulesApp } from '../helpers/all-modules.js';
import type { TestApp } from '../helpers/app.js';

/**
 * Walks the OpenAPI document of the whole app (every module of the registry) and sends malformed
 * values to every operation's path parameters, query parameters and body fields, one field at a
 * time with the others kept plausible, as an anonymous caller and as an admin. Whatever a client
 * can send must end in a 4xx problem+json (or a 2xx), never a 5xx.
 */

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}
interface Probe {
  method: string;
  url: string;
  /** What was malformed, for the failure list. */
  what: string;
  body?: { type: string; payload: string };
}

const ADMIN = { email: 'admin@demo.lectern.dev', password: 'orchid-lantern-7421' };
/** RFC 6749 fixes the OAuth endpoints' error format (`{ error, error_description }`), not problem+json. */
const OWN_ERROR_FORMAT = /^\/oauth\//;

let t: TestApp;
let doc: {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
};

beforeAll(async () => {
  const built = await buildAllModulesApp({ worker: false, env: { RATE_LIMIT_MAX: '1000000' } });
  t = built.t;
  await built.composed.modules.find((m) => m.name === 'identity')?.seed?.();
  doc = t.app.swagger() as typeof doc;
});
afterAll(async () => {
  await t.stop();
});

function resolve(schema: Schema | undefined): Schema {
  let s = schema ?? {};
  for (let hops = 0; typeof s.$ref === 'string' && hops < 10; hops++) {
    const name = s.$ref.replace('#/components/schemas/', '');
    s = doc.components?.schemas?.[name] ?? {};
  }
  return s;
}

const typeOf = (s: Schema): string | undefined => {
  if (typeof s.type === 'string') return s.type;
  if (Array.isArray(s.type)) return s.type.find((x) => x !== 'null') as string | undefined;
  if (s.properties) return 'object';
  return undefined;
};

/** A plausible value for a schema, so that one malformed field is the only thing wrong. */
function sample(schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(schema);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum)) return s.enum[0];
  if ('default' in s) return s.default;
  const branches = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (branches) return sample(branches.find((b) => resolve(b).type !== 'null') ?? branches[0], depth);
  switch (typeOf(s)) {
    case 'object': {
      if (depth > 4) return {};
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const required = (s.required ?? []) as string[];
      return Object.fromEntries(required.map((k) => [k, sample(props[k], depth + 1)]));
    }
    case 'array':
      return typeof s.minItems === 'number' && s.minItems > 0 ? [sample(s.items as Schema, depth + 1)] : [];
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? Math.max(s.minimum, 1) : 1;
    case 'boolean':
      return true;
    case 'string':
    case undefined:
    default: {
      if (s.format === 'uuid') return randomUUID();
      if (s.format === 'email') return 'walker@example.com';
      if (s.format === 'date-time') return new Date().toISOString();
      if (s.format === 'date') return '2026-01-01';
      if (s.format === 'uri') return 'https://example.com/x';
      const min = typeof s.minLength === 'number' ? s.minLength : 1;
      return 'walker'.padEnd(min, 'x');
    }
  }
}

const deep = (levels: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};
const HUGE = 'a'.repeat(10 * 1024);
const forgedCursors = [
  encodeCursor(['0', randomUUID()]),
  encodeCursor(['2026', randomUUID()]),
  encodeCursor([1.5, randomUUID()]),
  encodeCursor([2147483648, randomUUID()]),
  encodeCursor(['\u0000', '\u0000']),
  encodeCursor([randomUUID()]),
  Buffer.from('{"a":1}').toString('base64url'),
  'not-a-cursor',
];

/** Malformed JSON values for a field of this schema. */
function badValues(schema: Schema, name: string): [string, unknown][] {
  const s = resolve(schema);
  const type = typeOf(s);
  const out: [string, unknown][] = [
    ['NUL', 'a\u0000b'],
    ['lone surrogate', 'x\ud800y'],
    ['10 kB string', HUGE],
    ['null', null],
    ['array for scalar', [sample(s), sample(s)]],
    ['nested object', deep(64)],
  ];
  if (type === 'integer' || type === 'number' || type === undefined) {
    out.push(['huge number', 1e308], ['int32 overflow', 2147483648], ['beyond safe integer', 2 ** 53 + 2]);
    out.push(['negative', -1], ['int32 underflow', -2147483649], ['fraction', 1.5]);
  }
  if (type === 'string' || type === undefined) out.push(['number for string', 12345], ['boolean', true]);
  if (type === 'object') out.push(['string for object', 'text']);
  if (type === 'array') out.push(['array of junk', ['\u0000', { a: deep(8) }, 1e308]]);
  if (name === 'cursor') for (const c of forgedCursors) out.push([`forged cursor ${c}`, c]);
  return out;
}

/** Malformed URL text (already encoded) for a query or path parameter. */
function badText(name: string, inPath: boolean): [string, string][] {
  const out: [string, string][] = [
    ['NUL', 'a%00b'],
    ['encoded lone surrogate', '%ED%A0%80'],
    ['bad percent-encoding', '%zz'],
    ['10 kB', HUGE],
    ['huge number', '99999999999999999999'],
    ['int32 overflow', '2147483648'],
    ['negative', '-1'],
    ['fraction', '1.5'],
    ['word', 'abc'],
    ['control character', 'a%01b'],
  ];
  if (!inPath && name === 'cursor')
    for (const c of forgedCursors) out.push([`forged cursor ${c}`, encodeURIComponent(c)]);
  return out;
}

function buildProbes(): Probe[] {
  const probes: Probe[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = op.parameters ?? [];
      const pathParams = params.filter((p) => p.in === 'path');
      const queryParams = params.filter((p) => p.in === 'query');
      const pathValues = Object.fromEntries(pathParams.map((p) => [p.name, String(sample(p.schema))]));
      const urlWith = (override: Record<string, string> = {}, query = '') => {
        const filled = path.replace(/\{([^}]+)\}/g, (_m, name: string) =>
          name in override ? (override[name] as string) : encodeURIComponent(pathValues[name] ?? 'x'),
        );
        return query ? `${filled}?${query}` : filled;
      };
      const content = op.requestBody?.content ?? {};
      const jsonSchema = content['application/json']?.schema;
      const formSchema = content['application/x-www-form-urlencoded']?.schema;
      const bodySchema = resolve(jsonSchema ?? formSchema);
      const baseBody =
        (jsonSchema ?? formSchema) ? (sample(bodySchema) as Record<string, unknown>) : undefined;
      const encode = (body: unknown): Probe['body'] => {
        if (jsonSchema) return { type: 'application/json', payload: JSON.stringify(body) };
        if (formSchema) {
          const form = new URLSearchParams();
          for (const [k, v] of Object.entries((body ?? {}) as Record<string, unknown>))
            form.append(k, String(v));
          return { type: 'application/x-www-form-urlencoded', payload: form.toString() };
        }
        return undefined;
      };
      const base = { method: method.toUpperCase(), body: encode(baseBody) };
      const label = `${method.toUpperCase()} ${path}`;

      for (const p of pathParams) {
        for (const [what, value] of badText(p.name, true)) {
          probes.push({
            ...base,
            url: urlWith({ [p.name]: value }),
            what: `${label} path ${p.name}: ${what}`,
          });
        }
      }
      for (const p of queryParams) {
        for (const [what, value] of badText(p.name, false)) {
          probes.push({
            ...base,
            url: urlWith({}, `${p.name}=${value}`),
            what: `${label} query ${p.name}: ${what}`,
          });
        }
        probes.push({
          ...base,
          url: urlWith({}, `${p.name}=1&${p.name}=2`),
          what: `${label} query ${p.name}: repeated`,
        });
      }
      if (baseBody !== undefined && typeof baseBody === 'object') {
        const props = (bodySchema.properties ?? {}) as Record<string, Schema>;
        for (const [field, fieldSchema] of Object.entries(props)) {
          for (const [what, value] of badValues(fieldSchema, field)) {
            probes.push({
              ...base,
              url: urlWith(),
              body: encode({ ...baseBody, [field]: value }),
              what: `${label} body ${field}: ${what}`,
            });
          }
        }
        const whole: [string, string][] = [
          ['unknown field', JSON.stringify({ ...baseBody, unexpectedField: 'x' })],
          ['array body', '[]'],
          ['string body', '"text"'],
          ['number body', '1e999'],
          ['deeply nested array', `${'['.repeat(5000)}${']'.repeat(5000)}`],
          ['lone surrogate key', JSON.stringify({ ...baseBody, 'k\ud800': 1 })],
        ];
        if (jsonSchema) {
          for (const [what, payload] of whole) {
            probes.push({
              ...base,
              url: urlWith(),
              body: { type: 'application/json', payload },
              what: `${label} body: ${what}`,
            });
          }
        }
        probes.push({
          ...base,
          url: urlWith(),
          body: { type: 'text/plain', payload: 'hello' },
          what: `${label} body: text/plain`,
        });
      }
    }
  }
  return probes;
}

async function login(): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: ADMIN });
  expect(res.statusCode).toBe(200);
  return res.json<{ accessToken: string }>().accessToken;
}

describe('malformed input on every operation of the whole app', () => {
  it('never gets a 5xx, and every 4xx is problem+json', async () => {
    const probes = buildProbes();
    expect(probes.length).toBeGreaterThan(500);
    let adminToken = await login();
    const failures: string[] = [];
    const send = (probe: Probe, token?: string) =>
      t.app.inject({
        method: probe.method as 'GET',
        url: probe.url,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(probe.body ? { 'content-type': probe.body.type } : {}),
        },
        ...(probe.body ? { payload: probe.body.payload } : {}),
      });
    for (const probe of probes) {
      for (const caller of ['anonymous', 'admin'] as const) {
        let res = await send(probe, caller === 'admin' ? adminToken : undefined);
        // a probe may have ended the admin's sessions (logout, password change): log in again
        if (caller === 'admin' && res.statusCode === 401) {
          adminToken = await login();
          res = await send(probe, adminToken);
        }
        const type = String(res.headers['content-type'] ?? '');
        const where = new URL(probe.url, 'http://x').pathname;
        if (res.statusCode >= 500) failures.push(`${res.statusCode} ${probe.what} (${caller})`);
        else if (
          res.statusCode >= 400 &&
          !OWN_ERROR_FORMAT.test(where) &&
          !type.startsWith('application/problem+json')
        ) {
          failures.push(`${res.statusCode} not problem+json (${type}): ${probe.what} (${caller})`);
        }
      }
    }
    expect(failures).toEqual([]);
    // two callers times every probe of every module's routes: minutes on a loaded 2-core machine
  }, 300_000);
});

describe('numbers in query strings', () => {
  it('an infinite number (1e309, -1e309, Infinity) is a 400 naming the field on every GET with a numeric query parameter', async () => {
    const numeric = (schema: Schema | undefined): boolean => {
      const s = resolve(schema);
      return (
        s.type === 'integer' ||
        s.type === 'number' ||
        (Array.isArray(s.anyOf) && (s.anyOf as Schema[]).some((b) => numeric(b)))
      );
    };
    const wrong: string[] = [];
    let probed = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      const op = item.get;
      if (!op || /\{/.test(path)) continue;
      const query = (op.parameters ?? []).filter((x) => x.in === 'query');
      for (const p of query.filter((x) => numeric(x.schema))) {
        // the other required parameters plausible, so the number is what is refused
        const others = query
          .filter((x) => x.required && x.name !== p.name)
          .map((x) => `${x.name}=${encodeURIComponent(String(sample(x.schema)))}`);
        for (const value of ['1e309', '-1e309', 'Infinity']) {
          probed++;
          const url = `${path}?${[...others, `${p.name}=${value}`].join('&')}`;
          const res = await t.app.inject({ method: 'GET', url });
          const field = res.json<{ fields?: { field: string }[] }>().fields?.[0]?.field;
          if (res.statusCode !== 400 || field !== `/querystring/${p.name}`)
            wrong.push(`${path}?${p.name}=${value}: ${res.statusCode} ${field ?? ''}`);
        }
      }
    }
    expect(probed).toBeGreaterThan(10);
    expect(wrong).toEqual([]);
  });
});

describe('unknown fields on real module routes', () => {
  it('a JSON write route names the unknown field', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { ...ADMIN, rememberMe: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'request.invalid', fields: [{ field: '/body/rememberMe' }] });
  });

  it('the OAuth form endpoints still ignore parameters they do not know (RFC 6749 §3.2)', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload:
        'grant_type=client_credentials&client_id=nobody&client_secret=wrong&resource=https%3A%2F%2Fapi.example',
    });
    // refused for the unknown client, not for the extra `resource` parameter
    expect(res.json()).toMatchObject({ error: 'invalid_client' });
  });
});
