import type { Static, TObject, TSchema } from 'typebox';
import { Value } from 'typebox/value';

/**
 * A module's environment settings are a TypeBox object whose property names are the variable
 * names, e.g. `Type.Object({ ASSET_URL_SECRET: Type.Optional(Type.String({ minLength: 32,
 * description, secret: true })) })`. Annotations read here: `description` (required for
 * .env.example), `default` (used when unset or empty), `examples[0]` (shown in .env.example
 * instead of the default), `secret` (a bad value is never echoed) and `sameOnEveryInstance` (left
 * unset, each process makes its own value, which other instances refuse: a deployment of several
 * instances must set it; the deployment manifests' test holds them to it).
 */
export type SettingsSchema = TObject;
export type SettingsOf<S extends SettingsSchema> = Static<S>;

interface Annotations {
  description?: string;
  default?: unknown;
  examples?: unknown[];
  secret?: boolean;
  sameOnEveryInstance?: boolean;
  type?: string;
  anyOf?: { const?: unknown }[];
}

const annotationsOf = (schema: TSchema) => schema as Annotations;

class SettingValueError extends Error {}

/** Environment text to the type the schema asks for; the schema then checks the value. */
function convert(schema: TSchema, raw: string): unknown {
  const { type } = annotationsOf(schema);
  if (type === 'integer' || type === 'number') {
    if (!/^-?\d+(\.\d+)?$/.test(raw)) throw new SettingValueError(`expected a number, got "${raw}"`);
    return Number(raw);
  }
  if (type === 'boolean') {
    const v = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new SettingValueError(`expected true or false, got "${raw}"`);
  }
  if (type === 'array') {
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }
  return raw;
}

/** One line for a bad value: the schema's first complaint, or the allowed words of a choice. */
function reasonOf(schema: TSchema, value: unknown): string | undefined {
  if (Value.Check(schema, value)) return undefined;
  const choices = annotationsOf(schema).anyOf?.map((s) => s.const);
  if (choices?.every((c) => typeof c === 'string')) return `expected one of ${choices.join(', ')}`;
  const [first] = [...Value.Errors(schema, value)];
  return first?.message ?? 'invalid value';
}

/**
 * Read one settings schema from the environment. Returns the typed values, or one line per bad
 * value (secret values are never echoed).
 */
export function parseSettings<S extends SettingsSchema>(
  schema: S,
  env: NodeJS.ProcessEnv,
): { values: SettingsOf<S>; problems: string[] } {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  // TypeBox leaves `required` out when every property is optional
  const required = new Set((schema as { required?: string[] }).required ?? []);
  for (const [name, property] of Object.entries<TSchema>(schema.properties)) {
    const notes = annotationsOf(property);
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') {
      if (notes.default !== undefined) values[name] = notes.default;
      else if (required.has(name)) problems.push(`${name}: is required`);
      continue;
    }
    try {
      const value = convert(property, raw);
      const reason = reasonOf(property, value);
      if (reason === undefined) values[name] = value;
      else problems.push(`${name}: ${notes.secret ? reason.replace(/".*"/, '(hidden)') : reason}`);
    } catch (err) {
      const reason = err instanceof SettingValueError ? err.message : String(err);
      problems.push(`${name}: ${notes.secret ? reason.replace(/".*"/, '(hidden)') : reason}`);
    }
  }
  return { values: Object.freeze(values) as SettingsOf<S>, problems };
}

export interface SettingDescription {
  env: string;
  description: string;
  example: string;
  hasDefault: boolean;
  secret: boolean;
  sameOnEveryInstance: boolean;
}

function exampleOf(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The rows of a settings schema, for .env.example. */
export function describeSettingsSchema(schema: SettingsSchema): SettingDescription[] {
  return Object.entries<TSchema>(schema.properties).map(([env, property]) => {
    const notes = annotationsOf(property);
    return {
      env,
      description: notes.description ?? env,
      hasDefault: notes.default !== undefined,
      example: notes.examples?.[0] !== undefined ? exampleOf(notes.examples[0]) : exampleOf(notes.default),
      secret: notes.secret === true,
      sameOnEveryInstance: notes.sameOnEveryInstance === true,
    };
  });
}
