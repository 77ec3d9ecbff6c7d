import { type Kysely, sql } from 'kysely';
import { allowedEdits, editDistance, type QueryTerm } from './search.js';
import type { CatalogTables } from './tables.js';

const CORRECTABLE = /^[a-z][a-z0-9]{3,}$/;

/**
 * Spelling corrections for English query words that match no indexed word even as a prefix:
 * trigram similarity finds candidates in the word list (index-backed), and an edit distance
 * keeps only plausible typos ("pyhton" → "python"). PostgreSQL's docs suggest the same
 * word-list approach for pg_trgm with full-text search.
 */
export async function spellingCorrections(
  db: Kysely<CatalogTables>,
  terms: QueryTerm[],
): Promise<Map<string, string[]>> {
  const words = [...new Set(terms.filter((t) => !t.cjk && CORRECTABLE.test(t.text)).map((t) => t.text))];
  const corrections = new Map<string, string[]>();
  if (words.length === 0) return corrections;
  await db.transaction().execute(async (trx) => {
    // `%` uses this threshold; transpositions score low on trigrams, the edit distance decides
    await sql`set local pg_trgm.similarity_threshold = 0.2`.execute(trx);
    for (const word of words) {
      const known = await trx
        .selectFrom('catalog.search_words')
        .select('word')
        .where('word', 'like', `${word}%`)
        .limit(1)
        .executeTakeFirst();
      if (known) continue;
      const { rows } = await sql<{ word: string }>`
        select word from catalog.search_words
        where word % ${word}
        order by similarity(word, ${word}) desc, word
        limit 20`.execute(trx);
      const fixes = rows
        .map((r) => r.word)
        .filter((candidate) => editDistance(candidate, word) <= allowedEdits(word))
        .slice(0, 3);
      if (fixes.length > 0) corrections.set(word, fixes);
    }
  });
  return corrections;
}
