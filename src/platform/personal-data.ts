import { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import { type Clock, systemClock } from './clock.js';
import type { EnvelopeOf, EventDefinition } from './messaging/events.js';
import { eventSubscriber, type ModuleSubscriber } from './module.js';
import type { Storage } from './storage/storage.js';

/**
 * A user's copy of their personal data (个人信息副本, PIPL Art. 45), made of one part per module.
 * Identity records the request and publishes `identity.data_export.requested`; each module's
 * subscriber writes what it holds about the user as its part; identity serves the parts joined
 * into one JSON document once every part is there. No module calls another: each reads its own
 * tables, in its own inbox transaction, and the parts meet in the platform's storage.
 *
 * A part appears whole or not at all (the storage's `put` moves a finished object into place),
 * so a redelivered event simply writes it again.
 */

/** Where a module's part of an export is stored. */
export const exportPartKey = (exportId: string, module: string): string =>
  `data-exports/${exportId}/${module}.json`;

/**
 * A part's sections, by name. A value is written with `JSON.stringify` (so a `Date` becomes its
 * ISO string, and a `bigint` is not allowed); an `AsyncIterable` is written as a JSON array item
 * by item, for sections too long to hold at once (a learner's behaviour events).
 */
export type ExportSections = Record<string, unknown>;

export interface ExportPart {
  module: string;
  generatedAt: string;
  data: Record<string, unknown>;
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

async function* render(module: string, generatedAt: Date, sections: ExportSections): AsyncGenerator<Buffer> {
  const text = (s: string) => Buffer.from(s, 'utf8');
  yield text(
    `{"module":${JSON.stringify(module)},"generatedAt":${JSON.stringify(generatedAt.toISOString())},"data":{`,
  );
  let firstSection = true;
  for (const [name, value] of Object.entries(sections)) {
    yield text(`${firstSection ? '' : ','}${JSON.stringify(name)}:`);
    firstSection = false;
    if (!isAsyncIterable(value)) {
      yield text(JSON.stringify(value ?? null));
      continue;
    }
    yield text('[');
    let first = true;
    for await (const item of value) {
      yield text(`${first ? '' : ','}${JSON.stringify(item ?? null)}`);
      first = false;
    }
    yield text(']');
  }
  yield text('}}');
}

/** Write a module's part of an export (replacing an earlier write of the same part). */
export async function writeExportPart(
  storage: Storage,
  part: { exportId: string; module: string; generatedAt: Date; sections: ExportSections },
): Promise<void> {
  await storage.put(
    exportPartKey(part.exportId, part.module),
    Readable.from(render(part.module, part.generatedAt, part.sections)),
    { contentType: 'application/json' },
  );
}

/**
 * Rows of a keyset-paged read as one stream of items, for a long section: `page(after)` returns
 * the rows after the cursor (none at first), in order; the stream ends at a page shorter than
 * `size`. Each page is its own short query, so nothing holds a cursor open. `after` is the last
 * row of the page before; annotate it with the columns the query pages by (`Cursor`).
 */
export async function* pagedSection<Row extends Cursor, Item, Cursor = Row>(
  page: (after: Cursor | undefined, size: number) => Promise<Row[]>,
  toItem: (row: Row) => Item,
  size = 1000,
): AsyncGenerator<Item> {
  let after: Cursor | undefined;
  for (;;) {
    const rows = await page(after, size);
    for (const row of rows) yield toItem(row);
    if (rows.length < size) return;
    after = rows[rows.length - 1];
  }
}

/** The parts joined as one JSON document: `{ ...header, "parts": { "<module>": <part>, … } }`. */
export function joinExportParts(
  storage: Storage,
  exportId: string,
  header: Record<string, unknown>,
  modules: readonly string[],
): Readable {
  async function* join(): AsyncGenerator<Buffer> {
    const head = JSON.stringify(header);
    yield Buffer.from(`${head.slice(0, -1)}${head === '{}' ? '' : ','}"parts":{`, 'utf8');
    let first = true;
    for (const module of modules) {
      yield Buffer.from(`${first ? '' : ','}${JSON.stringify(module)}:`, 'utf8');
      first = false;
      for await (const chunk of await storage.get(exportPartKey(exportId, module))) {
        yield chunk as Buffer;
      }
    }
    yield Buffer.from('}}', 'utf8');
  }
  return Readable.from(join());
}

/** What an export's request event carries for the modules (identity's `data_export.requested`). */
export interface ExportRequest {
  exportId: string;
  userId: string;
}

/**
 * A module's subscriber (`<module>.data-export`) that writes its part when a copy is asked for.
 * It reads in the inbox's transaction and writes before that commits: a failed write rolls the
 * inbox row back, so the event is delivered again and the part is written whole.
 */
export function exportPartSubscriber<const D extends EventDefinition>(part: {
  /** The request's event definition, from identity's `index.ts` (the platform knows no module). */
  requested: EnvelopeOf<D>['data'] extends ExportRequest ? D : never;
  module: string;
  storage: Storage;
  clock?: Clock | undefined;
  /** The module's sections about `userId`, read through `trx`. */
  sections(trx: Transaction<object>, userId: string): ExportSections | Promise<ExportSections>;
}): ModuleSubscriber {
  const clock = part.clock ?? systemClock;
  return eventSubscriber({
    consumer: `${part.module}.data-export`,
    events: [part.requested],
    async handle(event, trx) {
      // the definition's data was checked to extend ExportRequest above
      const { exportId, userId } = event.data as ExportRequest;
      await writeExportPart(part.storage, {
        exportId,
        module: part.module,
        generatedAt: clock(),
        sections: await part.sections(trx, userId),
      });
    },
  });
}
