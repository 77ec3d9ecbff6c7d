import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { inTransaction } from '../../../platform/db/database.js';
import { addSearchWords, ensureTags, searchDocument } from '../courses.queries.js';
import type { CatalogTables } from '../tables.js';
import { BULK_CATEGORIES, BULK_FORMS, BULK_LEVELS, BULK_TOPICS } from './bulk.data.js';
import { ensureBulkBase, insertBulkBatch } from './bulk.queries.js';
import { DEMO_INSTRUCTORS } from './demo.data.js';

/**
 * Insert `n` published courses quickly (for the 100,000-course benchmark): set-based inserts in
 * batches, one chapter and two article lessons each, search documents included, no events and
 * no files. Returns how many were created.
 *
 * The one seed path that writes rows itself instead of going through the services: 100,000
 * courses through create → outline → submit → approve take hours, and benchmark data must not
 * announce itself to other modules. Demo data (seed.ts) always goes through the services.
 */
export async function seedBulkCourses(
  database: Kysely<object>,
  n: number,
  options: { batchSize?: number } = {},
): Promise<number> {
  const db = database.withTables<CatalogTables>();
  const categories = await ensureBulkBase(db, DEMO_INSTRUCTORS);
  const tagIds = new Map<string, string>();
  for (const [, tag] of BULK_TOPICS) {
    const [id] = await ensureTags(db, [tag]);
    if (id) tagIds.set(tag, id);
  }
  const batchSize = options.batchSize ?? 500;
  const now = Date.now();
  const words = new Set<string>();
  let created = 0;
  while (created < n) {
    const count = Math.min(batchSize, n - created);
    const rows = Array.from({ length: count }, (_, j) => {
      const i = created + j;
      const topicIndex = i % BULK_TOPICS.length;
      const [topic, tag] = BULK_TOPICS[topicIndex] ?? BULK_TOPICS[0];
      const form = BULK_FORMS[Math.floor(i / BULK_TOPICS.length) % BULK_FORMS.length] ?? '';
      const instructor = DEMO_INSTRUCTORS[i % DEMO_INSTRUCTORS.length] ?? DEMO_INSTRUCTORS[0];
      const title = `${topic} ${form} No.${i + 1}`;
      const subtitle = `Bulk course ${i + 1}: ${topic}`;
      const doc = searchDocument({
        title,
        subtitle,
        description: '',
        tags: [tag],
        instructorNames: [instructor?.displayName ?? ''],
        categoryName: null,
      });
      for (const w of doc.words) words.add(w);
      const publishedAt = new Date(now - i * 60_000);
      return {
        course: {
          id: randomUUID(),
          owner_id: instructor?.id ?? '',
          title,
          subtitle,
          description: `Generated for benchmarks. ${topic}.`,
          category_id: categories.get(BULK_CATEGORIES[topicIndex] ?? 'programming') ?? null,
          cover_asset_id: null,
          price_amount: (i % 7) * 3000,
          currency: 'CNY',
          level: BULK_LEVELS[i % BULK_LEVELS.length] ?? 'beginner',
          language: i % 3 === 0 ? 'en' : 'zh-CN',
          status: 'published' as const,
          review_note: null,
          submitted_at: publishedAt,
          published_at: publishedAt,
          popularity: (i * 7919) % 10_000,
          rating_x100: 300 + ((i * 37) % 200),
          rating_count: (i * 131) % 1000,
          lesson_count: 2,
          duration_seconds: 1200,
          created_at: publishedAt,
          updated_at: publishedAt,
        },
        searchVector: doc.vector,
        tagId: tagIds.get(tag),
      };
    });
    await inTransaction(db, (trx) => insertBulkBatch(trx, rows));
    created += count;
  }
  await addSearchWords(db, [...words]);
  return created;
}
