import { pipeline, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';

/**
 * Rows as a CSV stream (RFC 4180: a field with a comma, quote or line break is quoted and its
 * quotes doubled), by csv-stringify, the maintained stringifier of the node-csv project. Pages
 * are pulled one at a time as the client reads, so a long report never sits whole in memory; a
 * failing page ends the stream with an error (the response is cut, never completed wrongly).
 */
export function csvStream<T>(
  columns: { key: string; header: string }[],
  pages: AsyncIterable<T[]> | Iterable<T[]>,
  toRecord: (row: T) => Record<string, string | number>,
): Readable {
  async function* records() {
    for await (const page of pages) for (const row of page) yield toRecord(row);
  }
  const stringifier = stringify({ header: true, columns, record_delimiter: 'windows' });
  return pipeline(Readable.from(records()), stringifier, () => undefined);
}
