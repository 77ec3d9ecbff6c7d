import { CompiledQuery, type Kysely } from 'kysely';

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
  const named = name === undefined ? compiled : { ...compiled, sql: { name, text } as unknown as string };
  return (await db.executeQuery<Row>(named)).rows;
}
