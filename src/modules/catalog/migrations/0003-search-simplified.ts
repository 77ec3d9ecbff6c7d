import type { Kysely } from 'kysely';
import { refreshSearchDocument } from '../courses.queries.js';
import type { CatalogTables } from '../tables.js';

/**
 * Search now folds Traditional Chinese into Simplified (`normalise` in search.ts), so every
 * stored search document is rebuilt with it; otherwise courses written in Traditional stay out
 * of reach of the new queries. The tokens are made in JavaScript, not SQL, which is why this
 * migration calls the indexing code instead of holding its own copy: re-indexing is meant to
 * use the tokenizer of the release that runs it. Keyset batches keep each statement small.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const catalog = db as unknown as Kysely<CatalogTables>;
  let after: string | undefined;
  for (;;) {
    let query = catalog.selectFrom('catalog.courses').select('id').orderBy('id').limit(500);
    if (after !== undefined) query = query.where('id', '>', after);
    const batch = await query.execute();
    for (const { id } of batch) await refreshSearchDocument(catalog, id);
    const last = batch.at(-1);
    if (!last) return;
    after = last.id;
  }
}

/** Nothing to undo: documents indexed with Simplified forms are still valid search documents. */
export async function down(): Promise<void> {}
