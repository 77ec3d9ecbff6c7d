import { type Compilable, CompiledQuery, type Kysely, type RootOperationNode } from 'kysely';

/**
 * The rows of `text` run as the named prepared statement `name` (or as a plain query without a
 * name). pg parses a named statement once per pooled connection, and PostgreSQL then plans it
 * once for good (a generic plan, after five custom ones) instead of parsing and planning it again
 * on every request: for a page of reviews that was most of the database's time per request.
 *
 * Kysely has no statement names. Its PostgreSQL driver hands a compiled query's `sql` to pg's
 * `client.query` as it is, and pg takes a `{ name, text }` config in that place: the name travels
 * there (reviews.queries.test.ts fails if either library stops doing so).
 *
 * A name must always carry the same text (pg refuses a name reused for another), and each one
 * holds a plan in every connection's backend (about 80 KB): names are a small fixed set of
 * statements, never made from request input.
 */
export async function namedRows<Row, DB>(
  db: Kysely<DB>,
  name: string | undefined,
  text: string,
  values: unknown[],
): Promise<Row[]> {
  const compiled = CompiledQuery.raw(text, values);
  return (await db.executeQuery<Row>(name === undefined ? compiled : asNamed(compiled, name))).rows;
}

/** The compiled query as pg's `{ name, text }` config in `sql`'s place (see `namedRows`). */
function asNamed<Row>(compiled: CompiledQuery<Row>, name: string): CompiledQuery<Row> {
  return { ...compiled, sql: { name, text: compiled.sql } as unknown as string };
}

/**
 * A statement written with Kysely's builder, built and compiled once per shape of its arguments
 * and then run as a named prepared statement (see `namedRows`) with each call's values.
 *
 * Building and compiling a statement costs tens of microseconds on every call (a checkout runs
 * a dozen of them), and PostgreSQL parses and plans its text again each time. Here `build` runs
 * once per shape with placeholders in place of the values: an argument's plain objects keep
 * their keys and arrays of them (rows) their length, `undefined` stays `undefined` (so a
 * `values()` or `set()` that leaves such a column out, or an `if (x !== undefined)`, takes its
 * own shape), and every other value (strings, numbers, dates, other arrays, null) becomes a
 * placeholder that must reach the compiled statement as a parameter. A builder that uses one
 * any other way (in a template string, a comparison, JSON.stringify, a spread of an array into
 * `in (…)`) fails at its first call with the reason: write `= any(${ids})` for a list. What
 * cannot be caught is a branch on a value's truthiness: the builder must not look at the
 * values, only pass them on.
 *
 * A statement with more than a few shapes is built as usual from the fifth on (no statement per
 * connection for each, see `namedRows`).
 */
export function preparedStatement<DB, Args extends object, Row>(
  name: string,
  build: (db: Kysely<DB>, args: Args) => Compilable<Row>,
): (db: Kysely<DB>, args: Args) => Promise<Row[]> {
  const shapes: Prepared<Row>[] = [];
  return async (db, args) => {
    let prepared = shapes.find((p) => fits(args, p.shape));
    if (!prepared) {
      if (shapes.length >= MAX_SHAPES) return (await db.executeQuery(build(db, args))).rows;
      prepared = prepare(db, build, args, shapes.length === 0 ? name : `${name}/${shapes.length + 1}`);
      shapes.push(prepared);
    }
    const { named, slots } = prepared;
    const parameters = slots.map((slot) => (slot.path ? valueAt(args, slot.path) : slot.value));
    return (await db.executeQuery<Row>({ ...named, parameters })).rows;
  };
}

const MAX_SHAPES = 4;

/** A value's stand-in while a statement is built; its path is kept off the object's own keys. */
class Placeholder {
  readonly #path: readonly string[];
  constructor(path: readonly string[]) {
    this.#path = path;
  }
  get path(): readonly string[] {
    return this.#path;
  }
  // a comparison or a template string of a placeholder would bake one call's value into the text
  [Symbol.toPrimitive](): never {
    throw new Error(`the value at ${this.#path.join('.')} was used as text or a number, not passed on`);
  }
}

interface Prepared<Row> {
  shape: Shape;
  /** The compiled statement under its name; each call puts its own parameters in. */
  named: CompiledQuery<Row>;
  /** Each parameter: an argument's value at `path`, or a constant of the statement. */
  slots: { path?: readonly string[]; value?: unknown }[];
}

/**
 * What changes a built statement: the keys of plain objects in order, the length of arrays of
 * rows, and where `undefined` is ('u'); any other value is 'v'.
 */
type Shape = 'u' | 'v' | { keys: string[]; of: Shape[] } | { rows: Shape[] };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Rows: an array whose items are all plain objects (`values([...])` makes a statement of each length). */
const isRows = (v: unknown): v is Record<string, unknown>[] =>
  Array.isArray(v) && v.length > 0 && v.every(isPlainObject);

function shapeOf(value: unknown): Shape {
  if (value === undefined) return 'u';
  if (isRows(value)) return { rows: value.map(shapeOf) };
  if (!isPlainObject(value)) return 'v';
  const keys = Object.keys(value);
  return { keys, of: keys.map((k) => shapeOf(value[k])) };
}

/** Whether a call's arguments have this shape (compared in place: no key is built per call). */
function fits(value: unknown, shape: Shape): boolean {
  if (shape === 'u') return value === undefined;
  if (shape === 'v') return value !== undefined && !isPlainObject(value) && !isRows(value);
  if ('rows' in shape) {
    return (
      isRows(value) && value.length === shape.rows.length && shape.rows.every((s, i) => fits(value[i], s))
    );
  }
  if (!isPlainObject(value)) return false;
  let i = 0;
  for (const key in value) {
    if (key !== shape.keys[i] || !fits(value[key], shape.of[i] ?? 'u')) return false;
    i++;
  }
  return i === shape.keys.length;
}

function standIn(value: unknown, path: readonly string[], made: Placeholder[]): unknown {
  if (value === undefined) return undefined;
  if (isRows(value)) return value.map((row, i) => standIn(row, [...path, String(i)], made));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, standIn(v, [...path, k], made)]));
  }
  const placeholder = new Placeholder(path);
  made.push(placeholder);
  return placeholder;
}

function valueAt(args: object, path: readonly string[]): unknown {
  let value: unknown = args;
  for (const key of path) value = (value as Record<string, unknown>)[key];
  return value;
}

function prepare<DB, Args extends object, Row>(
  db: Kysely<DB>,
  build: (db: Kysely<DB>, args: Args) => Compilable<Row>,
  args: Args,
  name: string,
): Prepared<Row> {
  const made: Placeholder[] = [];
  const compiled = build(db, standIn(args, [], made) as Args).compile();
  // a placeholder that is not a parameter of its own was dropped, or read (JSON.stringify, a
  // spread into `in (…)`): this call's value would then be baked into every later call's statement
  const unused = made.filter((p) => !compiled.parameters.includes(p));
  if (unused.length > 0) {
    const paths = unused.map((p) => p.path.join('.') || '(the argument)').join(', ');
    throw new Error(`prepared statement ${name}: ${paths} did not become a parameter`);
  }
  if (answersAllColumns(compiled.query)) {
    // PostgreSQL fails a prepared statement whose answer's columns changed since it was planned
    // ("cached plan must not change result type"): a column a migration adds while this runs
    throw new Error(
      `prepared statement ${name}: name the columns it answers, not * (selectAll, returningAll)`,
    );
  }
  const slots = compiled.parameters.map((p) => (p instanceof Placeholder ? { path: p.path } : { value: p }));
  return { shape: shapeOf(args), named: asNamed(compiled, name), slots };
}

/** Whether the statement's own answer (not a CTE's or a subquery's) includes a `*`. */
function answersAllColumns(node: RootOperationNode): boolean {
  const selections =
    node.kind === 'SelectQueryNode'
      ? node.selections
      : node.kind === 'InsertQueryNode' || node.kind === 'UpdateQueryNode' || node.kind === 'DeleteQueryNode'
        ? node.returning?.selections
        : undefined;
  return (selections ?? []).some(
    ({ selection }) =>
      selection.kind === 'SelectAllNode' ||
      (selection.kind === 'ReferenceNode' && selection.column.kind === 'SelectAllNode'),
  );
}
